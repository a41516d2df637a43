package io.kubetune.operator.adapter;

import static io.kubetune.operator.runtime.EnvReader.require;

import io.fabric8.kubernetes.api.model.Quantity;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.runtime.EnvReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Operator-level settings of the AdapterDeployment controller, chosen by whoever installs the
 * operator (the Helm chart sets them as environment variables; docs/adapter-serving.md lists them).
 *
 * @param servingImage DJL Serving LMI image used when spec.serving.image is not set ({@value
 *     #ENV_IMAGE})
 * @param imagePullPolicy Always, IfNotPresent or Never ({@value #ENV_PULL_POLICY})
 * @param artifactClaimName the namespace artifact store PVC mounted read-only at /artifacts in
 *     serving pods ({@value #ENV_ARTIFACT_CLAIM}, shared with the FineTuneJob controller)
 * @param artifactsRoot where the operator's own pod mounts the artifact store (read-only) to check
 *     adapter folders before registration ({@value #ENV_ARTIFACTS_ROOT})
 * @param operatorPodLabels labels of the operator's pods; the NetworkPolicy lets only them reach
 *     the management port ({@value #ENV_OPERATOR_POD_SELECTOR})
 * @param operatorNamespace namespace of the operator's pods; null allows operator-labelled pods of
 *     any namespace ({@value #ENV_OPERATOR_NAMESPACE})
 * @param inferencePort inference API port of serving pods ({@value #ENV_INFERENCE_PORT})
 * @param managementPort management API port of serving pods ({@value #ENV_MANAGEMENT_PORT})
 * @param startupBudget how long a serving pod may take to download and load the base model before
 *     the kubelet restarts it ({@value #ENV_STARTUP_SECONDS})
 * @param runAsUser numeric user the serving container runs as ({@value #ENV_RUN_AS_USER})
 * @param targetModules module names the served base models have; adapters targeting others are
 *     refused ({@value #ENV_TARGET_MODULES})
 * @param resync how often a converged deployment is synced again without events ({@value
 *     #ENV_RESYNC})
 * @param pendingResync how often a deployment whose adapters are not all loaded is synced again
 *     ({@value #ENV_PENDING_RESYNC})
 * @param sync tuning of the adapter synchronizer (backoff, timeouts)
 * @param checks the adapter check pods run where the operator cannot read the artifact store
 */
public record AdapterDeploymentSettings(
    String servingImage,
    String imagePullPolicy,
    String artifactClaimName,
    Path artifactsRoot,
    Map<String, String> operatorPodLabels,
    String operatorNamespace,
    int inferencePort,
    int managementPort,
    Duration startupBudget,
    long runAsUser,
    Set<String> targetModules,
    Duration resync,
    Duration pendingResync,
    AdapterSynchronizer.Settings sync,
    Checks checks) {

  /** Default serving image. */
  public static final String ENV_IMAGE = "KUBETUNE_SERVING_IMAGE";

  /** Serving image pull policy. */
  public static final String ENV_PULL_POLICY = "KUBETUNE_SERVING_IMAGE_PULL_POLICY";

  /** Artifact store PVC name (same variable as the FineTuneJob controller's). */
  public static final String ENV_ARTIFACT_CLAIM = "KUBETUNE_ARTIFACT_CLAIM";

  /** Where the operator pod mounts the artifact store. */
  public static final String ENV_ARTIFACTS_ROOT = "KUBETUNE_ARTIFACTS_ROOT";

  /** Labels of the operator pods, as k=v,k2=v2. */
  public static final String ENV_OPERATOR_POD_SELECTOR = "KUBETUNE_OPERATOR_POD_SELECTOR";

  /** Namespace of the operator pods. */
  public static final String ENV_OPERATOR_NAMESPACE = "KUBETUNE_OPERATOR_NAMESPACE";

  /** Inference port. */
  public static final String ENV_INFERENCE_PORT = "KUBETUNE_SERVING_INFERENCE_PORT";

  /** Management port. */
  public static final String ENV_MANAGEMENT_PORT = "KUBETUNE_SERVING_MANAGEMENT_PORT";

  /** Startup budget in seconds. */
  public static final String ENV_STARTUP_SECONDS = "KUBETUNE_SERVING_STARTUP_SECONDS";

  /** Serving user id. */
  public static final String ENV_RUN_AS_USER = "KUBETUNE_SERVING_RUN_AS_USER";

  /** Supported target modules, comma separated. */
  public static final String ENV_TARGET_MODULES = "KUBETUNE_SERVING_TARGET_MODULES";

  /** Resync period in seconds. */
  public static final String ENV_RESYNC = "KUBETUNE_ADAPTER_RESYNC_SECONDS";

  /** Resync period while adapters are not loaded, in seconds. */
  public static final String ENV_PENDING_RESYNC = "KUBETUNE_ADAPTER_PENDING_RESYNC_SECONDS";

  /** Namespace whose artifact store the operator pod mounts at the artifacts root; empty: any. */
  public static final String ENV_ARTIFACTS_NAMESPACE = "KUBETUNE_ARTIFACTS_NAMESPACE";

  /** Image of the adapter check pods: the trainer image (same variable as the trainer's). */
  public static final String ENV_CHECK_IMAGE = FineTuneJobSettings.ENV_IMAGE;

  /** Pull policy of the adapter check pods (same variable as the trainer's). */
  public static final String ENV_CHECK_PULL_POLICY = FineTuneJobSettings.ENV_PULL_POLICY;

  /** User of the adapter check pods (same variable as the trainer's). */
  public static final String ENV_CHECK_RUN_AS_USER = FineTuneJobSettings.ENV_RUN_AS_USER;

  /** CPU of an adapter check pod. */
  public static final String ENV_CHECK_CPU = "KUBETUNE_ADAPTER_CHECK_CPU";

  /** Memory of an adapter check pod. */
  public static final String ENV_CHECK_MEMORY = "KUBETUNE_ADAPTER_CHECK_MEMORY";

  /** How long an adapter check pod may run, in seconds. */
  public static final String ENV_CHECK_DEADLINE = "KUBETUNE_ADAPTER_CHECK_DEADLINE_SECONDS";

  /** First retry delay after a failed adapter check, in seconds (doubles per failure). */
  public static final String ENV_CHECK_RETRY = "KUBETUNE_ADAPTER_CHECK_RETRY_SECONDS";

  /** Longest retry delay after failed adapter checks, in seconds. */
  public static final String ENV_CHECK_MAX_RETRY = "KUBETUNE_ADAPTER_CHECK_MAX_RETRY_SECONDS";

  /** Default DJL Serving LMI image (vLLM backend), pinned; the chart overrides it. */
  public static final String DEFAULT_IMAGE = "deepjavalibrary/djl-serving:0.33.0-lmi";

  /** DJL Serving's model name when the model is loaded from /opt/ml/model. */
  public static final String MODEL_NAME = "model";

  private static final Pattern DNS_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
  private static final Pattern LABEL_KEY =
      Pattern.compile(
          "^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$");

  public AdapterDeploymentSettings {
    require(servingImage != null && !servingImage.isBlank(), ENV_IMAGE, "must not be empty");
    require(
        imagePullPolicy.equals("Always")
            || imagePullPolicy.equals("IfNotPresent")
            || imagePullPolicy.equals("Never"),
        ENV_PULL_POLICY,
        "must be Always, IfNotPresent or Never, not '" + imagePullPolicy + "'");
    require(
        artifactClaimName != null && DNS_NAME.matcher(artifactClaimName).matches(),
        ENV_ARTIFACT_CLAIM,
        "must be a PVC name such as kubetune-artifacts, not '" + artifactClaimName + "'");
    require(!operatorPodLabels.isEmpty(), ENV_OPERATOR_POD_SELECTOR, "must name at least a label");
    require(inferencePort > 0 && inferencePort < 65536, ENV_INFERENCE_PORT, "must be 1-65535");
    require(managementPort > 0 && managementPort < 65536, ENV_MANAGEMENT_PORT, "must be 1-65535");
    require(
        inferencePort != managementPort,
        ENV_MANAGEMENT_PORT,
        "must differ from the inference port: the management API must not be reachable through"
            + " the Service");
    require(startupBudget.toSeconds() >= 10, ENV_STARTUP_SECONDS, "must be at least 10");
    require(runAsUser >= 1, ENV_RUN_AS_USER, "must be a non-root user id (1 or more)");
    require(!targetModules.isEmpty(), ENV_TARGET_MODULES, "must name at least one module");
    require(!resync.isNegative() && !resync.isZero(), ENV_RESYNC, "must be positive");
    require(
        !pendingResync.isNegative() && !pendingResync.isZero(),
        ENV_PENDING_RESYNC,
        "must be positive");
    require(checks != null, ENV_CHECK_IMAGE, "adapter check settings are missing");
    operatorPodLabels = Map.copyOf(operatorPodLabels);
    targetModules = Set.copyOf(targetModules);
  }

  /** The defaults, as documented in docs/adapter-serving.md. */
  public static AdapterDeploymentSettings defaults() {
    return fromEnv(Map.of());
  }

  /**
   * Reads the settings from environment variables; unset variables take their defaults.
   *
   * @throws IllegalArgumentException naming the variable and the accepted values when one is
   *     invalid
   */
  public static AdapterDeploymentSettings fromEnv(Map<String, String> vars) {
    EnvReader env = new EnvReader(vars);
    String ns = env.get(ENV_OPERATOR_NAMESPACE, "");
    return new AdapterDeploymentSettings(
        env.get(ENV_IMAGE, DEFAULT_IMAGE),
        env.get(ENV_PULL_POLICY, "IfNotPresent"),
        env.get(ENV_ARTIFACT_CLAIM, "kubetune-artifacts"),
        Path.of(env.get(ENV_ARTIFACTS_ROOT, "/artifacts")),
        labels(env.get(ENV_OPERATOR_POD_SELECTOR, "app.kubernetes.io/name=kubetune-operator")),
        ns.isEmpty() ? null : ns,
        (int) env.integer(ENV_INFERENCE_PORT, 8080),
        (int) env.integer(ENV_MANAGEMENT_PORT, 8081),
        Duration.ofSeconds(env.integer(ENV_STARTUP_SECONDS, 3600)),
        env.integer(ENV_RUN_AS_USER, 1000),
        modules(
            env.get(ENV_TARGET_MODULES, "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")),
        Duration.ofSeconds(env.integer(ENV_RESYNC, 60)),
        Duration.ofSeconds(env.integer(ENV_PENDING_RESYNC, 5)),
        AdapterSynchronizer.Settings.defaults(MODEL_NAME),
        new Checks(
            env.get(ENV_CHECK_IMAGE, FineTuneJobSettings.DEFAULT_IMAGE),
            env.get(ENV_CHECK_PULL_POLICY, "IfNotPresent"),
            env.integer(ENV_CHECK_RUN_AS_USER, 65532),
            env.positiveQuantity(ENV_CHECK_CPU, "250m"),
            env.positiveQuantity(ENV_CHECK_MEMORY, "512Mi"),
            Duration.ofSeconds(env.integer(ENV_CHECK_DEADLINE, 300)),
            Duration.ofSeconds(env.integer(ENV_CHECK_RETRY, 10)),
            Duration.ofSeconds(env.integer(ENV_CHECK_MAX_RETRY, 600)),
            emptyToNull(env.get(ENV_ARTIFACTS_NAMESPACE, ""))));
  }

  private static String emptyToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  /**
   * Adapter check pods: where the operator cannot read a namespace's artifact store itself, it runs
   * the trainer image's {@code check-adapter} in a small CPU-only Job of that namespace.
   *
   * @param image the trainer image ({@value #ENV_CHECK_IMAGE})
   * @param imagePullPolicy its pull policy ({@value #ENV_CHECK_PULL_POLICY})
   * @param runAsUser numeric non-root user of the check pod ({@value #ENV_CHECK_RUN_AS_USER})
   * @param cpu CPU request and limit ({@value #ENV_CHECK_CPU})
   * @param memory memory request and limit ({@value #ENV_CHECK_MEMORY})
   * @param deadline activeDeadlineSeconds of the Job ({@value #ENV_CHECK_DEADLINE})
   * @param retry delay before the first retry of a failed check, doubled per failure ({@value
   *     #ENV_CHECK_RETRY})
   * @param maxRetry the longest such delay ({@value #ENV_CHECK_MAX_RETRY})
   * @param mountNamespace the namespace whose artifact store the operator pod mounts at {@code
   *     artifactsRoot}, checked in-process; null when the mount (if any) serves every namespace
   *     ({@value #ENV_ARTIFACTS_NAMESPACE})
   */
  public record Checks(
      String image,
      String imagePullPolicy,
      long runAsUser,
      Quantity cpu,
      Quantity memory,
      Duration deadline,
      Duration retry,
      Duration maxRetry,
      String mountNamespace) {

    public Checks {
      require(image != null && !image.isBlank(), ENV_CHECK_IMAGE, "must not be empty");
      require(
          imagePullPolicy.equals("Always")
              || imagePullPolicy.equals("IfNotPresent")
              || imagePullPolicy.equals("Never"),
          ENV_CHECK_PULL_POLICY,
          "must be Always, IfNotPresent or Never, not '" + imagePullPolicy + "'");
      require(runAsUser >= 1, ENV_CHECK_RUN_AS_USER, "must be a non-root user id (1 or more)");
      require(deadline.toSeconds() >= 10, ENV_CHECK_DEADLINE, "must be at least 10");
      require(retry.toSeconds() >= 1, ENV_CHECK_RETRY, "must be at least 1");
      require(
          maxRetry.compareTo(retry) >= 0, ENV_CHECK_MAX_RETRY, "must not be less than the retry");
    }

    /** A copy with other retry delays (tests). */
    public Checks withRetry(Duration first, Duration max) {
      return new Checks(
          image, imagePullPolicy, runAsUser, cpu, memory, deadline, first, max, mountNamespace);
    }
  }

  /** A copy with other synchronizer tuning and resync periods (tests, benchmarks). */
  public AdapterDeploymentSettings withSync(
      AdapterSynchronizer.Settings sync, Duration resync, Duration pendingResync) {
    return new AdapterDeploymentSettings(
        servingImage,
        imagePullPolicy,
        artifactClaimName,
        artifactsRoot,
        operatorPodLabels,
        operatorNamespace,
        inferencePort,
        managementPort,
        startupBudget,
        runAsUser,
        targetModules,
        resync,
        pendingResync,
        sync,
        checks);
  }

  /** A copy with other adapter check settings (tests). */
  public AdapterDeploymentSettings withChecks(Checks checks) {
    return new AdapterDeploymentSettings(
        servingImage,
        imagePullPolicy,
        artifactClaimName,
        artifactsRoot,
        operatorPodLabels,
        operatorNamespace,
        inferencePort,
        managementPort,
        startupBudget,
        runAsUser,
        targetModules,
        resync,
        pendingResync,
        sync,
        checks);
  }

  /** A copy with another operator-side artifact store mount (tests). */
  public AdapterDeploymentSettings withArtifactsRoot(Path root) {
    return new AdapterDeploymentSettings(
        servingImage,
        imagePullPolicy,
        artifactClaimName,
        root,
        operatorPodLabels,
        operatorNamespace,
        inferencePort,
        managementPort,
        startupBudget,
        runAsUser,
        targetModules,
        resync,
        pendingResync,
        sync,
        checks);
  }

  private static Map<String, String> labels(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : text.split(",", -1)) {
      String[] kv = part.trim().split("=", 2);
      require(
          kv.length == 2
              && LABEL_KEY.matcher(kv[0].trim()).matches()
              && LABEL_VALUE.matcher(kv[1].trim()).matches(),
          ENV_OPERATOR_POD_SELECTOR,
          "must be key=value pairs separated by commas, such as"
              + " app.kubernetes.io/name=kubetune-operator, not '"
              + text
              + "'");
      out.put(kv[0].trim(), kv[1].trim());
    }
    return out;
  }

  private static Set<String> modules(String text) {
    Set<String> out = new LinkedHashSet<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }
}
