package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.SecretKeyRef;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ServingResourcesTest {
  private final AdapterDeploymentSettings settings =
      AdapterDeploymentSettings.fromEnv(
          Map.of(
              AdapterDeploymentSettings.ENV_OPERATOR_NAMESPACE, "kubetune-system",
              AdapterDeploymentSettings.ENV_OPERATOR_POD_SELECTOR, "app=kubetune-operator"));

  private static Container container(Deployment d) {
    return d.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  private static Map<String, String> env(Deployment d) {
    return container(d).getEnv().stream()
        .filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  private static VolumeMount mount(Deployment d, String path) {
    return container(d).getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(path))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no mount at " + path));
  }

  @Test
  void pvcBaseModelIsMountedReadOnlyWhereDjlServingLoadsIt() {
    Deployment d =
        ServingResources.deployment(
            AdapterDeployments.of("ns", "ad").baseModel("pvc://models/llama/v1").build(), settings);
    VolumeMount model = mount(d, "/opt/ml/model");
    assertTrue(model.getReadOnly());
    assertEquals("llama/v1", model.getSubPath());
    assertEquals(
        "models",
        d.getSpec().getTemplate().getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals(model.getName()))
            .findFirst()
            .orElseThrow()
            .getPersistentVolumeClaim()
            .getClaimName());
    assertFalse(env(d).containsKey("HF_MODEL_ID"));
  }

  @Test
  void hfBaseModelIsDownloadedWithTheTokenFromTheSecret() {
    AdapterDeployment ad =
        AdapterDeployments.of("ns", "ad").baseModel("hf://meta-llama/Llama-3.2-1B").build();
    ad.getSpec().baseModel.secretRef = new SecretKeyRef("hf", "token");
    Deployment d = ServingResources.deployment(ad, settings);
    assertEquals("meta-llama/Llama-3.2-1B", env(d).get("HF_MODEL_ID"));
    EnvVar token =
        container(d).getEnv().stream()
            .filter(e -> e.getName().equals("HF_TOKEN"))
            .findFirst()
            .orElseThrow();
    assertNull(token.getValue(), "the token never appears in the Deployment");
    assertEquals("hf", token.getValueFrom().getSecretKeyRef().getName());
    assertEquals("token", token.getValueFrom().getSecretKeyRef().getKey());
  }

  @Test
  void loraAndPassThroughOptionsBecomeOptionVariables() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").maxLoraRank(32).build();
    ad.getSpec().lora.maxLoras = 6;
    ad.getSpec().lora.maxCpuLoras = 12;
    ad.getSpec().serving.properties =
        Map.of("option.tensor_parallel_degree", "2", "option.max_loras", "99");
    Map<String, String> env = env(ServingResources.deployment(ad, settings));
    assertEquals("true", env.get("OPTION_ENABLE_LORA"));
    assertEquals("6", env.get("OPTION_MAX_LORAS"), "spec.lora wins over properties");
    assertEquals("32", env.get("OPTION_MAX_LORA_RANK"));
    assertEquals("12", env.get("OPTION_MAX_CPU_LORAS"));
    assertEquals("2", env.get("OPTION_TENSOR_PARALLEL_DEGREE"));
    assertEquals("http://0.0.0.0:8080", env.get("SERVING_INFERENCE_ADDRESS"));
    assertEquals("http://0.0.0.0:8081", env.get("SERVING_MANAGEMENT_ADDRESS"));
    assertEquals("1", env.get("SERVING_MAX_WORKERS"));
  }

  @Test
  void imageComesFromTheOperatorSettingUnlessTheSpecOverridesIt() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").build();
    assertEquals(
        AdapterDeploymentSettings.DEFAULT_IMAGE,
        container(ServingResources.deployment(ad, settings)).getImage());
    AdapterDeploymentSettings custom =
        AdapterDeploymentSettings.fromEnv(
            Map.of(AdapterDeploymentSettings.ENV_IMAGE, "registry.local/lmi:1"));
    assertEquals(
        "registry.local/lmi:1", container(ServingResources.deployment(ad, custom)).getImage());
    ad.getSpec().serving.image = "registry.local/lmi:2";
    assertEquals(
        "registry.local/lmi:2", container(ServingResources.deployment(ad, custom)).getImage());
  }

  @Test
  void gpusAndSchedulingFieldsAreCopiedToThePod() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").build();
    ad.getSpec().resources.gpus = 2;
    ad.getSpec().resources.memory = new Quantity("40Gi");
    ad.getSpec().resources.nodeSelector = Map.of("gpu", "a100");
    Toleration t = new Toleration("NoSchedule", "nvidia.com/gpu", "Exists", null, null);
    ad.getSpec().resources.tolerations = List.of(t);
    ad.getSpec().resources.priorityClassName = "serving";
    ad.getSpec().resources.runtimeClassName = "nvidia";
    Deployment d = ServingResources.deployment(ad, settings);
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertEquals(new Quantity("2"), container(d).getResources().getLimits().get("nvidia.com/gpu"));
    assertEquals(new Quantity("40Gi"), container(d).getResources().getLimits().get("memory"));
    assertEquals(Map.of("gpu", "a100"), pod.getNodeSelector());
    assertEquals(List.of(t), pod.getTolerations());
    assertEquals("serving", pod.getPriorityClassName());
    assertEquals("nvidia", pod.getRuntimeClassName());
  }

  @Test
  void podRunsUnderTheRestrictedProfileWithWritableScratchOnly() {
    Deployment d = ServingResources.deployment(AdapterDeployments.of("ns", "ad").build(), settings);
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken());
    assertTrue(pod.getSecurityContext().getRunAsNonRoot());
    assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
    Container c = container(d);
    assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
    assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
    assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
    assertFalse(mount(d, "/tmp").getReadOnly());
    assertTrue(mount(d, "/artifacts").getReadOnly());
    assertEquals(
        "kubetune-artifacts",
        pod.getVolumes().stream()
            .filter(v -> v.getName().equals(mount(d, "/artifacts").getName()))
            .findFirst()
            .orElseThrow()
            .getPersistentVolumeClaim()
            .getClaimName());
  }

  @Test
  void startupProbeGivesTheModelTheWholeBudgetOnTheInferencePort() {
    Container c =
        container(ServingResources.deployment(AdapterDeployments.of("ns", "ad").build(), settings));
    var startup = c.getStartupProbe();
    assertEquals("/ping", startup.getHttpGet().getPath());
    assertEquals("inference", startup.getHttpGet().getPort().getStrVal());
    assertTrue(startup.getPeriodSeconds() * startup.getFailureThreshold() >= 3600);
    assertEquals("/ping", c.getReadinessProbe().getHttpGet().getPath());
  }

  @Test
  void adaptersNeverReachThePodTemplate() {
    AdapterDeployment one = AdapterDeployments.of("ns", "ad").path("a", "a").build();
    AdapterDeployment other =
        AdapterDeployments.of("ns", "ad").path("b", "b").path("c", "c").pinned().build();
    assertEquals(
        ServingResources.deployment(one, settings), ServingResources.deployment(other, settings));
  }

  @Test
  void serviceExposesInferenceOnly() {
    Service s = ServingResources.service(AdapterDeployments.of("ns", "ad").build(), settings);
    assertEquals(1, s.getSpec().getPorts().size());
    assertEquals(8080, s.getSpec().getPorts().get(0).getPort());
    assertEquals(
        ServingResources.labels(AdapterDeployments.of("ns", "ad").build()),
        s.getSpec().getSelector());
  }

  @Test
  void networkPolicyLetsOnlyTheOperatorReachManagement() {
    NetworkPolicy p =
        ServingResources.networkPolicy(AdapterDeployments.of("ns", "ad").build(), settings);
    assertEquals(List.of("Ingress"), p.getSpec().getPolicyTypes());
    List<NetworkPolicyIngressRule> rules = p.getSpec().getIngress();
    assertEquals(2, rules.size());
    NetworkPolicyIngressRule inference = rules.get(0);
    assertEquals(8080, inference.getPorts().get(0).getPort().getIntVal());
    assertTrue(
        inference.getFrom().get(0).getNamespaceSelector().getMatchLabels() == null
            || inference.getFrom().get(0).getNamespaceSelector().getMatchLabels().isEmpty());
    NetworkPolicyIngressRule management = rules.get(1);
    assertEquals(8081, management.getPorts().get(0).getPort().getIntVal());
    assertEquals(
        Map.of("app", "kubetune-operator"),
        management.getFrom().get(0).getPodSelector().getMatchLabels());
    assertEquals(
        Map.of("kubernetes.io/metadata.name", "kubetune-system"),
        management.getFrom().get(0).getNamespaceSelector().getMatchLabels());
  }

  @Test
  void artifactPathsMustStayOnTheArtifactStore() {
    assertEquals(
        "adapters/a",
        ServingResources.artifactRelativePath("pvc://kubetune-artifacts/adapters/a/", settings));
    assertNull(ServingResources.artifactRelativePath("pvc://other/adapters/a", settings));
    assertNull(
        ServingResources.artifactRelativePath("pvc://kubetune-artifacts/adapters/../x", settings));
    assertNull(ServingResources.artifactRelativePath("pvc://kubetune-artifacts/", settings));
  }
}
