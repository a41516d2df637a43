package io.kubetune.operator.finetune;

import static io.kubetune.operator.runtime.EnvReader.require;

import io.fabric8.kubernetes.api.model.Quantity;
import io.kubetune.operator.runtime.EnvReader;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Operator-level settings of the FineTuneJob controller, chosen by whoever installs the operator
 * (the Helm chart sets them as environment variables).
 *
 * @param trainerImage image of the trainer and the dataset validation pod ({@value #ENV_IMAGE})
 * @param imagePullPolicy Always, IfNotPresent or Never ({@value #ENV_PULL_POLICY})
 * @param artifactClaimName the namespace artifact store PVC used when a job sets no output volume
 *     ({@value #ENV_ARTIFACT_CLAIM})
 * @param artifactStoreSize size requested when the operator creates that PVC ({@value
 *     #ENV_ARTIFACT_SIZE})
 * @param artifactStorageClass storage class of that PVC, null for the cluster default ({@value
 *     #ENV_ARTIFACT_STORAGE_CLASS})
 * @param createArtifactStore whether the operator creates the PVC when it is absent ({@value
 *     #ENV_ARTIFACT_CREATE})
 * @param validationCpu CPU of the dataset validation pod ({@value #ENV_VALIDATION_CPU})
 * @param validationMemory memory of the dataset validation pod ({@value #ENV_VALIDATION_MEMORY})
 * @param validationDeadline how long dataset validation may run ({@value #ENV_VALIDATION_DEADLINE})
 * @param progressIntervalSeconds fewest seconds between two trainer progress updates ({@value
 *     #ENV_PROGRESS_INTERVAL})
 * @param runAsUser numeric user the trainer runs as ({@value #ENV_RUN_AS_USER})
 * @param resync how often a running job is re-examined without events ({@value #ENV_RESYNC})
 */
public record FineTuneJobSettings(
    String trainerImage,
    String imagePullPolicy,
    String artifactClaimName,
    Quantity artifactStoreSize,
    String artifactStorageClass,
    boolean createArtifactStore,
    Quantity validationCpu,
    Quantity validationMemory,
    Duration validationDeadline,
    int progressIntervalSeconds,
    long runAsUser,
    Duration resync) {

  /** Trainer image. */
  public static final String ENV_IMAGE = "KUBETUNE_TRAINER_IMAGE";

  /** Trainer image pull policy. */
  public static final String ENV_PULL_POLICY = "KUBETUNE_TRAINER_IMAGE_PULL_POLICY";

  /** Artifact store PVC name. */
  public static final String ENV_ARTIFACT_CLAIM = "KUBETUNE_ARTIFACT_CLAIM";

  /** Artifact store PVC size. */
  public static final String ENV_ARTIFACT_SIZE = "KUBETUNE_ARTIFACT_STORE_SIZE";

  /** Artifact store storage class. */
  public static final String ENV_ARTIFACT_STORAGE_CLASS = "KUBETUNE_ARTIFACT_STORAGE_CLASS";

  /** Whether to create the artifact store PVC. */
  public static final String ENV_ARTIFACT_CREATE = "KUBETUNE_CREATE_ARTIFACT_STORE";

  /** Validation pod CPU. */
  public static final String ENV_VALIDATION_CPU = "KUBETUNE_VALIDATION_CPU";

  /** Validation pod memory. */
  public static final String ENV_VALIDATION_MEMORY = "KUBETUNE_VALIDATION_MEMORY";

  /** Validation deadline in seconds. */
  public static final String ENV_VALIDATION_DEADLINE = "KUBETUNE_VALIDATION_DEADLINE_SECONDS";

  /** Progress interval in seconds. */
  public static final String ENV_PROGRESS_INTERVAL = "KUBETUNE_PROGRESS_INTERVAL_SECONDS";

  /** Trainer user id. */
  public static final String ENV_RUN_AS_USER = "KUBETUNE_TRAINER_RUN_AS_USER";

  /** Resync period in seconds. */
  public static final String ENV_RESYNC = "KUBETUNE_FINETUNE_RESYNC_SECONDS";

  /** Default trainer image, pinned to the operator's version. */
  public static final String DEFAULT_IMAGE = "ghcr.io/kubetune/trainer:0.1.0";

  private static final Pattern DNS_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");

  public FineTuneJobSettings {
    require(trainerImage != null && !trainerImage.isBlank(), ENV_IMAGE, "must not be empty");
    require(
        imagePullPolicy.equals("Always")
            || imagePullPolicy.equals("IfNotPresent")
            || imagePullPolicy.equals("Never"),
        ENV_PULL_POLICY,
        "must be Always, IfNotPresent or Never, not '" + imagePullPolicy + "'");
    require(
        artifactClaimName != null
            && artifactClaimName.length() <= 253
            && DNS_NAME.matcher(artifactClaimName).matches(),
        ENV_ARTIFACT_CLAIM,
        "must be a DNS subdomain name such as kubetune-artifacts, not '" + artifactClaimName + "'");
    require(progressIntervalSeconds >= 1, ENV_PROGRESS_INTERVAL, "must be at least 1");
    require(
        !validationDeadline.isNegative() && !validationDeadline.isZero(),
        ENV_VALIDATION_DEADLINE,
        "must be positive");
    require(!resync.isNegative() && !resync.isZero(), ENV_RESYNC, "must be positive");
    require(runAsUser >= 1, ENV_RUN_AS_USER, "must be a non-root user id (1 or more)");
  }

  /** The defaults, as documented in docs/finetunejob.md. */
  public static FineTuneJobSettings defaults() {
    return fromEnv(Map.of());
  }

  /**
   * Reads the settings from environment variables; unset variables take their defaults.
   *
   * @throws IllegalArgumentException naming the variable and the accepted values when one is
   *     invalid
   */
  public static FineTuneJobSettings fromEnv(Map<String, String> vars) {
    EnvReader env = new EnvReader(vars);
    return new FineTuneJobSettings(
        env.get(ENV_IMAGE, DEFAULT_IMAGE),
        env.get(ENV_PULL_POLICY, "IfNotPresent"),
        env.get(ENV_ARTIFACT_CLAIM, "kubetune-artifacts"),
        env.positiveQuantity(ENV_ARTIFACT_SIZE, "100Gi"),
        env.optional(ENV_ARTIFACT_STORAGE_CLASS).orElse(null),
        env.bool(ENV_ARTIFACT_CREATE, true),
        env.positiveQuantity(ENV_VALIDATION_CPU, "1"),
        env.positiveQuantity(ENV_VALIDATION_MEMORY, "2Gi"),
        Duration.ofSeconds(env.integer(ENV_VALIDATION_DEADLINE, 900)),
        (int) env.integer(ENV_PROGRESS_INTERVAL, 5),
        env.integer(ENV_RUN_AS_USER, 65532),
        Duration.ofSeconds(env.integer(ENV_RESYNC, 60)));
  }

  /** A copy with another trainer image (tests, benchmarks). */
  public FineTuneJobSettings withTrainerImage(String image) {
    return new FineTuneJobSettings(
        image,
        imagePullPolicy,
        artifactClaimName,
        artifactStoreSize,
        artifactStorageClass,
        createArtifactStore,
        validationCpu,
        validationMemory,
        validationDeadline,
        progressIntervalSeconds,
        runAsUser,
        resync);
  }
}
