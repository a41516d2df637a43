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
    // Adapter check pods: the trainer image, small, one mount for any namespace when unset.
    assertEquals(
        io.kubetune.operator.finetune.FineTuneJobSettings.DEFAULT_IMAGE, s.checks().image());
    assertEquals("250m", s.checks().cpu().toString());
    assertEquals("512Mi", s.checks().memory().toString());
    assertEquals(Duration.ofMinutes(5), s.checks().deadline());
    assertEquals(Duration.ofSeconds(10), s.checks().retry());
    assertEquals(Duration.ofMinutes(10), s.checks().maxRetry());
    assertNull(s.checks().mountNamespace());
  }

  @Test
  void adapterCheckSettingsAreReadFromTheirVariables() {
    AdapterDeploymentSettings s =
        AdapterDeploymentSettings.fromEnv(
            Map.of(
                "KUBETUNE_TRAINER_IMAGE", "trainer:2",
                "KUBETUNE_TRAINER_RUN_AS_USER", "4242",
                "KUBETUNE_ADAPTER_CHECK_MEMORY", "1Gi",
                "KUBETUNE_ADAPTER_CHECK_DEADLINE_SECONDS", "60",
                "KUBETUNE_ARTIFACTS_NAMESPACE", "ml"));
    assertEquals("trainer:2", s.checks().image());
    assertEquals(4242, s.checks().runAsUser());
    assertEquals("1Gi", s.checks().memory().toString());
    assertEquals(Duration.ofSeconds(60), s.checks().deadline());
    assertEquals("ml", s.checks().mountNamespace());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                AdapterDeploymentSettings.fromEnv(
                    Map.of(
                        "KUBETUNE_ADAPTER_CHECK_RETRY_SECONDS", "60",
                        "KUBETUNE_ADAPTER_CHECK_MAX_RETRY_SECONDS", "30")));
    assertTrue(
        e.getMessage().startsWith("KUBETUNE_ADAPTER_CHECK_MAX_RETRY_SECONDS"), e.getMessage());
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
