package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdapterDeploymentSettingsTest {

  @Test
  void defaultsAreDocumented() {
    AdapterDeploymentSettings s = AdapterDeploymentSettings.defaults();
    assertEquals(AdapterDeploymentSettings.DEFAULT_IMAGE, s.servingImage());
    assertEquals(Path.of("/artifacts"), s.artifactsRoot());
    assertEquals("kubetune-artifacts", s.artifactClaimName());
    assertEquals(Map.of("app.kubernetes.io/name", "kubetune-operator"), s.operatorPodLabels());
    assertNull(s.operatorNamespace());
    assertEquals(8080, s.inferencePort());
    assertEquals(8081, s.managementPort());
    assertEquals(Duration.ofHours(1), s.startupBudget());
    assertEquals(Duration.ofSeconds(60), s.resync());
    assertEquals("model", s.sync().model());
  }

  @Test
  void everySettingIsReadFromItsVariable() {
    AdapterDeploymentSettings s =
        AdapterDeploymentSettings.fromEnv(
            Map.of(
                "KUBETUNE_SERVING_IMAGE", "lmi:1",
                "KUBETUNE_ARTIFACTS_ROOT", "/mnt/store",
                "KUBETUNE_OPERATOR_POD_SELECTOR", "a=b, c=d",
                "KUBETUNE_SERVING_MANAGEMENT_PORT", "9000",
                "KUBETUNE_SERVING_TARGET_MODULES", "q_proj, v_proj"));
    assertEquals("lmi:1", s.servingImage());
    assertEquals(Path.of("/mnt/store"), s.artifactsRoot());
    assertEquals(Map.of("a", "b", "c", "d"), s.operatorPodLabels());
    assertEquals(9000, s.managementPort());
    assertEquals(java.util.Set.of("q_proj", "v_proj"), s.targetModules());
  }

  @Test
  void badValuesNameTheVariable() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                AdapterDeploymentSettings.fromEnv(
                    Map.of("KUBETUNE_SERVING_MANAGEMENT_PORT", "8080")));
    assertTrue(e.getMessage().startsWith("KUBETUNE_SERVING_MANAGEMENT_PORT"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                AdapterDeploymentSettings.fromEnv(
                    Map.of("KUBETUNE_OPERATOR_POD_SELECTOR", "no-equals")));
    assertTrue(e.getMessage().contains("key=value"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                AdapterDeploymentSettings.fromEnv(Map.of("KUBETUNE_ADAPTER_RESYNC_SECONDS", "x")));
    assertTrue(e.getMessage().contains("must be an integer"), e.getMessage());
  }
}
