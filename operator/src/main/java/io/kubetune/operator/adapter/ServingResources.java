package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec;
import io.kubetune.operator.api.v1alpha1.ResourcesSpec;
import io.kubetune.operator.pods.PodSpecs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Kubernetes objects that serve an AdapterDeployment: a Deployment of DJL Serving LMI pods, a
 * Service for inference only and a NetworkPolicy that keeps the management API to the operator.
 *
 * <p>Nothing about adapters is in the pod template: adapters are loaded at runtime over the
 * management API, so changing {@code spec.adapters} never restarts a pod.
 */
public final class ServingResources {
  /** Marks objects the operator manages. */
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";

  /** Value of {@link #MANAGED_BY}. */
  public static final String OPERATOR = "kubetune-operator";

  /** The owning AdapterDeployment's name; maps pods back to it. */
  public static final String ADAPTER_DEPLOYMENT = "kubetune.io/adapterdeployment";

  /** What the object is for. */
  public static final String COMPONENT = "kubetune.io/component";

  /** Value of {@link #COMPONENT} on serving objects. */
  public static final String SERVING = "serving";

  /** Selector of everything this controller manages. */
  public static final String SELECT_SERVING =
      MANAGED_BY + "=" + OPERATOR + "," + COMPONENT + "=" + SERVING;

  /** Container name of the model server. */
  public static final String CONTAINER = "djl-serving";

  /** Where serving pods mount the artifact store (read-only). */
  public static final String ARTIFACTS_DIR = "/artifacts";

  /** Where DJL Serving loads a local model from; its model name is then {@code model}. */
  public static final String MODEL_DIR = "/opt/ml/model";

  static final String INFERENCE_PORT_NAME = "inference";
  static final String MANAGEMENT_PORT_NAME = "management";

  private ServingResources() {}

  /** Labels of every serving object of {@code ad}; also the pod selector. */
  public static Map<String, String> labels(AdapterDeployment ad) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY, OPERATOR);
    labels.put(ADAPTER_DEPLOYMENT, ad.getMetadata().getName());
    labels.put(COMPONENT, SERVING);
    return labels;
  }

  /** Name of the Deployment, Service and NetworkPolicy. */
  public static String name(AdapterDeployment ad) {
    return ad.getMetadata().getName();
  }

  /** In-cluster inference URL of the Service. */
  public static String url(AdapterDeployment ad, AdapterDeploymentSettings settings) {
    return "http://"
        + name(ad)
        + "."
        + ad.getMetadata().getNamespace()
        + ".svc:"
        + settings.inferencePort();
  }

  /** Maps a {@code pvc://claim/rest} URI on the artifact store to {@code rest}, else null. */
  static String artifactRelativePath(String uri, AdapterDeploymentSettings settings) {
    String prefix = "pvc://" + settings.artifactClaimName() + "/";
    if (uri == null || !uri.startsWith(prefix) || uri.length() == prefix.length()) {
      return null;
    }
    String rest = uri.substring(prefix.length());
    while (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    for (String segment : rest.split("/")) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return null;
      }
    }
    return rest;
  }

  /** The serving Deployment; requires a spec that passed {@link AdapterDeploymentValidator}. */
  public static Deployment deployment(AdapterDeployment ad, AdapterDeploymentSettings settings) {
    AdapterDeploymentSpec spec = ad.getSpec();
    ResourcesSpec r = spec.resources == null ? new ResourcesSpec() : spec.resources;
    Map<String, String> labels = labels(ad);

    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName("artifacts")
            .withNewPersistentVolumeClaim()
            .withClaimName(settings.artifactClaimName())
            .withReadOnly(true)
            .endPersistentVolumeClaim()
            .build());
    mounts.add(mount("artifacts", ARTIFACTS_DIR, true, null));
    // The root filesystem is read-only; DJL Serving, Python and vLLM write logs, compiled kernels
    // and downloaded weights under these folders.
    for (String[] dir :
        new String[][] {
          {"tmp", "/tmp"}, {"cache", "/home/djl/.cache"}, {"logs", "/opt/djl/logs"}
        }) {
      volumes.add(new VolumeBuilder().withName(dir[0]).withNewEmptyDir().endEmptyDir().build());
      mounts.add(mount(dir[0], dir[1], false, null));
    }
    // Shared memory for the Python engine's worker processes.
    volumes.add(
        new VolumeBuilder()
            .withName("dshm")
            .withNewEmptyDir()
            .withMedium("Memory")
            .endEmptyDir()
            .build());
    mounts.add(mount("dshm", "/dev/shm", false, null));

    List<EnvVar> env = new ArrayList<>();
    env.add(env("SERVING_INFERENCE_ADDRESS", "http://0.0.0.0:" + settings.inferencePort()));
    env.add(env("SERVING_MANAGEMENT_ADDRESS", "http://0.0.0.0:" + settings.managementPort()));
    // One worker per pod: runtime adapter registrations live in that worker (design §6).
    env.add(env("SERVING_MIN_WORKERS", "1"));
    env.add(env("SERVING_MAX_WORKERS", "1"));
    env.add(env("HOME", "/home/djl"));
    env.add(env("HF_HOME", "/home/djl/.cache/huggingface"));
    String uri = spec.baseModel.uri;
    if (uri.startsWith("hf://")) {
      env.add(env("HF_MODEL_ID", uri.substring("hf://".length())));
      if (spec.baseModel.secretRef != null) {
        env.add(
            new EnvVarBuilder()
                .withName("HF_TOKEN")
                .withNewValueFrom()
                .withNewSecretKeyRef()
                .withName(spec.baseModel.secretRef.name)
                .withKey(
                    spec.baseModel.secretRef.key == null ? "token" : spec.baseModel.secretRef.key)
                .endSecretKeyRef()
                .endValueFrom()
                .build());
      }
    } else {
      String rest = uri.substring("pvc://".length());
      int slash = rest.indexOf('/');
      String claim = slash < 0 ? rest : rest.substring(0, slash);
      String subPath = slash < 0 ? null : rest.substring(slash + 1);
      volumes.add(
          new VolumeBuilder()
              .withName("model")
              .withNewPersistentVolumeClaim()
              .withClaimName(claim)
              .withReadOnly(true)
              .endPersistentVolumeClaim()
              .build());
      mounts.add(
          mount("model", MODEL_DIR, true, subPath == null || subPath.isEmpty() ? null : subPath));
    }
    AdapterDeploymentSpec.LoraServingSpec lora =
        spec.lora == null ? new AdapterDeploymentSpec.LoraServingSpec() : spec.lora;
    // serving.properties pass-through first, so the LoRA options from spec.lora win.
    Map<String, String> options = new LinkedHashMap<>();
    if (spec.serving != null && spec.serving.properties != null) {
      spec.serving.properties.forEach((k, v) -> options.put(optionEnv(k), v));
    }
    options.put("OPTION_ENABLE_LORA", "true");
    options.put("OPTION_MAX_LORAS", Integer.toString(lora.maxLoras));
    options.put("OPTION_MAX_LORA_RANK", Integer.toString(lora.maxLoraRank));
    options.put("OPTION_MAX_CPU_LORAS", Integer.toString(maxCpuLoras(spec)));
    if (lora.loraDtype != null && !lora.loraDtype.equals("auto")) {
      options.put("OPTION_LORA_DTYPE", lora.loraDtype);
    }
    options.forEach((k, v) -> env.add(env(k, v)));
    if (spec.serving != null && spec.serving.env != null) {
      // User env last: an explicit variable is the user's decision.
      env.addAll(spec.serving.env);
    }

    String image =
        spec.serving != null && spec.serving.image != null
            ? spec.serving.image
            : settings.servingImage();
    Container container =
        new ContainerBuilder()
            .withName(CONTAINER)
            .withImage(image)
            .withImagePullPolicy(settings.imagePullPolicy())
            .addNewPort()
            .withName(INFERENCE_PORT_NAME)
            .withContainerPort(settings.inferencePort())
            .endPort()
            .addNewPort()
            .withName(MANAGEMENT_PORT_NAME)
            .withContainerPort(settings.managementPort())
            .endPort()
            .withEnv(env)
            .withVolumeMounts(mounts)
            .withResources(PodSpecs.resources(r))
            // Downloading and loading a large model takes long: probe every 10 s for the whole
            // budget before the kubelet gives up. /ping is on the inference port.
            .withNewStartupProbe()
            .withNewHttpGet()
            .withPath("/ping")
            .withPort(new IntOrString(INFERENCE_PORT_NAME))
            .endHttpGet()
            .withPeriodSeconds(10)
            .withTimeoutSeconds(5)
            .withFailureThreshold((int) Math.max(1, settings.startupBudget().toSeconds() / 10))
            .endStartupProbe()
            // /ping answers 200 even while the model is PENDING, so this only proves the server
            // is up; the operator parses the body before registering adapters on a pod.
            .withNewReadinessProbe()
            .withNewHttpGet()
            .withPath("/ping")
            .withPort(new IntOrString(INFERENCE_PORT_NAME))
            .endHttpGet()
            .withPeriodSeconds(10)
            .withTimeoutSeconds(5)
            .withFailureThreshold(3)
            .endReadinessProbe()
            .withNewLivenessProbe()
            .withNewHttpGet()
            .withPath("/ping")
            .withPort(new IntOrString(INFERENCE_PORT_NAME))
            .endHttpGet()
            .withPeriodSeconds(30)
            .withTimeoutSeconds(10)
            .withFailureThreshold(5)
            .endLivenessProbe()
            .withSecurityContext(PodSpecs.restrictedContainerSecurity())
            .build();
    PodSpec podSpec =
        PodSpecs.scheduling(
                new PodSpecBuilder()
                    // The model server never talks to the API server.
                    .withAutomountServiceAccountToken(false)
                    .withEnableServiceLinks(false)
                    .withSecurityContext(PodSpecs.restrictedPodSecurity(settings.runAsUser()))
                    .withContainers(container)
                    .withVolumes(volumes),
                r)
            .withTerminationGracePeriodSeconds(60L)
            .build();

    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name(ad))
        .withNamespace(ad.getMetadata().getNamespace())
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withReplicas(spec.replicas == null ? 1 : spec.replicas)
        .withSelector(new LabelSelectorBuilder().withMatchLabels(labels).build())
        // A GPU pod more than asked for may not fit; replace pods one at a time, old one first.
        .withNewStrategy()
        .withType("RollingUpdate")
        .withNewRollingUpdate()
        .withMaxSurge(new IntOrString(0))
        .withMaxUnavailable(new IntOrString(1))
        .endRollingUpdate()
        .endStrategy()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .endMetadata()
        .withSpec(podSpec)
        .endTemplate()
        .endSpec()
        .build();
  }

  /** The inference Service; it never exposes the management port. */
  public static Service service(AdapterDeployment ad, AdapterDeploymentSettings settings) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name(ad))
        .withNamespace(ad.getMetadata().getNamespace())
        .withLabels(labels(ad))
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(labels(ad))
        .addNewPort()
        .withName(INFERENCE_PORT_NAME)
        .withProtocol("TCP")
        .withPort(settings.inferencePort())
        .withTargetPort(new IntOrString(INFERENCE_PORT_NAME))
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * The NetworkPolicy of the serving pods: inference from anywhere in the cluster, management only
   * from the operator's pods. Every other port is closed.
   */
  public static NetworkPolicy networkPolicy(
      AdapterDeployment ad, AdapterDeploymentSettings settings) {
    NetworkPolicyPeerBuilder operator =
        new NetworkPolicyPeerBuilder()
            .withPodSelector(
                new LabelSelectorBuilder().withMatchLabels(settings.operatorPodLabels()).build());
    if (settings.operatorNamespace() != null) {
      operator.withNamespaceSelector(
          new LabelSelectorBuilder()
              .withMatchLabels(Map.of("kubernetes.io/metadata.name", settings.operatorNamespace()))
              .build());
    } else {
      operator.withNamespaceSelector(new LabelSelectorBuilder().build());
    }
    return new NetworkPolicyBuilder()
        .withNewMetadata()
        .withName(name(ad))
        .withNamespace(ad.getMetadata().getNamespace())
        .withLabels(labels(ad))
        .endMetadata()
        .withNewSpec()
        .withPodSelector(new LabelSelectorBuilder().withMatchLabels(labels(ad)).build())
        .withPolicyTypes("Ingress")
        .addNewIngress()
        .addNewFrom()
        .withNamespaceSelector(new LabelSelectorBuilder().build())
        .endFrom()
        .addNewPort()
        .withProtocol("TCP")
        .withPort(new IntOrString(settings.inferencePort()))
        .endPort()
        .endIngress()
        .addNewIngress()
        .withFrom(operator.build())
        .addNewPort()
        .withProtocol("TCP")
        .withPort(new IntOrString(settings.managementPort()))
        .endPort()
        .endIngress()
        .endSpec()
        .build();
  }

  /** option.max_cpu_loras: the spec's value, else the larger of maxLoras and the adapter count. */
  static int maxCpuLoras(AdapterDeploymentSpec spec) {
    AdapterDeploymentSpec.LoraServingSpec lora =
        spec.lora == null ? new AdapterDeploymentSpec.LoraServingSpec() : spec.lora;
    if (lora.maxCpuLoras != null) {
      return lora.maxCpuLoras;
    }
    // Fixed at pod start: derived from the adapter count it would restart pods on every change.
    return lora.maxLoras;
  }

  /** option.tensor_parallel_degree → OPTION_TENSOR_PARALLEL_DEGREE. */
  static String optionEnv(String property) {
    String key = property.startsWith("option.") ? property.substring("option.".length()) : property;
    return "OPTION_" + key.replace('.', '_').replace('-', '_').toUpperCase(Locale.ROOT);
  }

  private static EnvVar env(String name, String value) {
    return new EnvVar(name, value, null);
  }

  private static VolumeMount mount(String name, String path, boolean readOnly, String subPath) {
    return new VolumeMountBuilder()
        .withName(name)
        .withMountPath(path)
        .withReadOnly(readOnly)
        .withSubPath(subPath)
        .build();
  }
}
