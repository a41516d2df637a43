package io.kubetune.operator.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FineTuneJobSettingsTest {

  @Test
  void defaultsWhenNothingIsSet() {
    FineTuneJobSettings s = FineTuneJobSettings.fromEnv(Map.of());
    assertEquals(FineTuneJobSettings.DEFAULT_IMAGE, s.trainerImage());
    assertEquals("kubetune-artifacts", s.artifactClaimName());
    assertTrue(s.createArtifactStore());
    assertNull(s.artifactStorageClass());
    assertEquals(new Quantity("2Gi"), s.validationMemory());
    assertEquals(Duration.ofSeconds(900), s.validationDeadline());
  }

  @Test
  void readsEveryVariable() {
    FineTuneJobSettings s =
        FineTuneJobSettings.fromEnv(
            Map.ofEntries(
                Map.entry(FineTuneJobSettings.ENV_IMAGE, "registry.local/trainer:1"),
                Map.entry(FineTuneJobSettings.ENV_PULL_POLICY, "Always"),
                Map.entry(FineTuneJobSettings.ENV_ARTIFACT_CLAIM, "store"),
                Map.entry(FineTuneJobSettings.ENV_ARTIFACT_SIZE, "1Ti"),
                Map.entry(FineTuneJobSettings.ENV_ARTIFACT_STORAGE_CLASS, "nfs"),
                Map.entry(FineTuneJobSettings.ENV_ARTIFACT_CREATE, "false"),
                Map.entry(FineTuneJobSettings.ENV_VALIDATION_CPU, "500m"),
                Map.entry(FineTuneJobSettings.ENV_VALIDATION_MEMORY, "1Gi"),
                Map.entry(FineTuneJobSettings.ENV_VALIDATION_DEADLINE, "60"),
                Map.entry(FineTuneJobSettings.ENV_PROGRESS_INTERVAL, "10"),
                Map.entry(FineTuneJobSettings.ENV_RUN_AS_USER, "1000"),
                Map.entry(FineTuneJobSettings.ENV_RESYNC, "30")));
    assertEquals("registry.local/trainer:1", s.trainerImage());
    assertEquals("Always", s.imagePullPolicy());
    assertEquals("store", s.artifactClaimName());
    assertEquals(new Quantity("1Ti"), s.artifactStoreSize());
    assertEquals("nfs", s.artifactStorageClass());
    assertFalse(s.createArtifactStore());
    assertEquals(new Quantity("500m"), s.validationCpu());
    assertEquals(Duration.ofSeconds(60), s.validationDeadline());
    assertEquals(10, s.progressIntervalSeconds());
    assertEquals(1000, s.runAsUser());
    assertEquals(Duration.ofSeconds(30), s.resync());
  }

  @Test
  void invalidValuesNameTheVariableAndTheFix() {
    assertMessage(FineTuneJobSettings.ENV_ARTIFACT_CREATE, "yes", "must be true or false");
    assertMessage(FineTuneJobSettings.ENV_ARTIFACT_SIZE, "lots", "quantity such as 2Gi");
    assertMessage(
        FineTuneJobSettings.ENV_PULL_POLICY, "Sometimes", "Always, IfNotPresent or Never");
    assertMessage(FineTuneJobSettings.ENV_ARTIFACT_CLAIM, "My_Store", "DNS subdomain");
    assertMessage(FineTuneJobSettings.ENV_RUN_AS_USER, "0", "non-root");
    assertMessage(FineTuneJobSettings.ENV_VALIDATION_DEADLINE, "ten", "integer");
  }

  private static void assertMessage(String variable, String value, String fix) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> FineTuneJobSettings.fromEnv(Map.of(variable, value)));
    assertTrue(e.getMessage().contains(variable) && e.getMessage().contains(fix), e.getMessage());
  }
}
