package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.operator.api.v1alpha1.CheckpointingSpec;
import io.kubetune.operator.api.v1alpha1.DataSource;
import io.kubetune.operator.api.v1alpha1.DatasetChecks;
import io.kubetune.operator.api.v1alpha1.DatasetSpec;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobSpec;
import io.kubetune.operator.api.v1alpha1.Hyperparameters;
import io.kubetune.operator.api.v1alpha1.LoraSpec;
import io.kubetune.operator.api.v1alpha1.MethodSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a FineTuneJob into the trainer's config document and the volumes, mounts and environment
 * that make every path in it resolve inside the pod. {@code pvc://claim/path} becomes {@code
 * /mnt/pvc/claim/path}; ConfigMap datasets are mounted as files; inline datasets travel in the
 * config ConfigMap next to {@code job.json}; {@code hf://} URIs are left for the trainer, with the
 * token Secret exposed as {@code HF_TOKEN}.
 */
public final class TrainerConfigRenderer {
  /** Where the config ConfigMap is mounted. */
  public static final String CONFIG_DIR = "/etc/kubetune";

  /** The config file the trainer reads. */
  public static final String CONFIG_PATH = CONFIG_DIR + "/" + Contract.CONFIG_KEY;

  /** Where the output (artifact store) volume is mounted. */
  public static final String ARTIFACTS_DIR = "/artifacts";

  /** Where input PVCs are mounted, one folder per claim. */
  public static final String PVC_ROOT = "/mnt/pvc";

  /** Where ConfigMap datasets are mounted. */
  public static final String DATA_ROOT = "/data";

  /** Environment variable holding the Hugging Face token. */
  public static final String TOKEN_ENV = "HF_TOKEN";

  static final String CONFIG_VOLUME = "config";
  static final String ARTIFACTS_VOLUME = "artifacts";
  static final String TMP_VOLUME = "tmp";

  /**
   * The rendered pieces.
   *
   * @param config the trainer config document
   * @param configData the config ConfigMap's data: job.json plus inline datasets
   * @param volumes pod volumes besides the config, artifacts and tmp volumes
   * @param mounts container mounts for those volumes
   * @param env environment of the trainer container
   * @param artifactClaim the output PVC name
   * @param artifactSubPath folder inside the output PVC, or null
   */
  public record Rendered(
      TrainerConfig config,
      Map<String, String> configData,
      List<Volume> volumes,
      List<VolumeMount> mounts,
      List<EnvVar> env,
      String artifactClaim,
      String artifactSubPath) {}

  private TrainerConfigRenderer() {}

  /** Renders {@code job}; the spec must have passed {@link SpecValidator}. */
  public static Rendered render(FineTuneJob job, FineTuneJobSettings settings) {
    FineTuneJobSpec spec = job.getSpec();
    String name = job.getMetadata().getName();
    Map<String, String> data = new LinkedHashMap<>();
    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    List<EnvVar> env = new ArrayList<>();
    List<String> claims = new ArrayList<>();

    String tokenEnv = null;
    if (spec.baseModel.secretRef != null) {
      tokenEnv = TOKEN_ENV;
      env.add(
          new EnvVarBuilder()
              .withName(TOKEN_ENV)
              .withNewValueFrom()
              .withNewSecretKeyRef()
              .withName(spec.baseModel.secretRef.name)
              .withKey(
                  spec.baseModel.secretRef.key == null ? "token" : spec.baseModel.secretRef.key)
              .endSecretKeyRef()
              .endValueFrom()
              .build());
    }
    String modelUri = path(spec.baseModel.uri, claims);

    DatasetSpec ds = spec.dataset;
    String train = dataPath("train", ds.train, data, volumes, mounts, claims);
    String validation =
        ds.validation == null
            ? null
            : dataPath("validation", ds.validation, data, volumes, mounts, claims);
    Double split = ds.validationSplit;
    if (ds.validation == null && split == null) {
      split = 0.1;
    }
    DatasetChecks checks = ds.checks == null ? new DatasetChecks() : ds.checks;
    TrainerConfig.Dataset dataset =
        new TrainerConfig.Dataset(
            train,
            validation,
            ds.validation == null ? split : null,
            (ds.format == null ? DatasetSpec.Format.AUTO : ds.format).value(),
            ds.chatTemplate,
            checks.minExamples,
            checks.maxTokensPerExample,
            (checks.onError == null ? DatasetChecks.OnError.Fail : checks.onError).name());

    for (int i = 0; i < claims.size(); i++) {
      String claim = claims.get(i);
      volumes.add(
          new VolumeBuilder()
              .withName("pvc-" + i)
              .withNewPersistentVolumeClaim()
              .withClaimName(claim)
              .withReadOnly(true)
              .endPersistentVolumeClaim()
              .build());
      mounts.add(
          new VolumeMountBuilder()
              .withName("pvc-" + i)
              .withMountPath(PVC_ROOT + "/" + claim)
              .withReadOnly(true)
              .build());
    }

    String artifactClaim =
        spec.output != null && spec.output.volume != null
            ? spec.output.volume.claimName
            : settings.artifactClaimName();
    String artifactSubPath =
        spec.output != null && spec.output.volume != null ? spec.output.volume.subPath : null;
    String adapterName =
        spec.output != null && spec.output.adapterName != null ? spec.output.adapterName : name;

    TrainerConfig config =
        new TrainerConfig(
            name,
            job.getMetadata().getNamespace(),
            new TrainerConfig.BaseModel(
                modelUri, spec.baseModel.revision, tokenEnv, ARTIFACTS_DIR + "/cache/huggingface"),
            dataset,
            method(spec.method),
            hyperparameters(spec.hyperparameters),
            new TrainerConfig.Output(
                ARTIFACTS_DIR + "/adapters/" + name,
                ARTIFACTS_DIR + "/checkpoints/" + name,
                adapterName),
            checkpointing(spec.checkpointing),
            new TrainerConfig.Progress(
                Contract.progressConfigMapName(name), settings.progressIntervalSeconds()));
    data.put(Contract.CONFIG_KEY, Contract.write(config));
    return new Rendered(config, data, volumes, mounts, env, artifactClaim, artifactSubPath);
  }

  /**
   * Maps a trainer-side path under {@link #ARTIFACTS_DIR} to the {@code pvc://} URI serving pods
   * use; other paths are returned unchanged.
   */
  public static String artifactUri(String containerPath, String claim, String subPath) {
    if (containerPath == null || !containerPath.startsWith(ARTIFACTS_DIR + "/")) {
      return containerPath;
    }
    String rest = containerPath.substring(ARTIFACTS_DIR.length() + 1);
    return "pvc://" + claim + "/" + (subPath == null ? "" : subPath + "/") + rest;
  }

  private static String path(String uri, List<String> claims) {
    if (!uri.startsWith("pvc://")) {
      return uri;
    }
    String rest = uri.substring("pvc://".length());
    int slash = rest.indexOf('/');
    String claim = slash < 0 ? rest : rest.substring(0, slash);
    String inside = slash < 0 ? "" : rest.substring(slash);
    if (!claims.contains(claim)) {
      claims.add(claim);
    }
    return PVC_ROOT + "/" + claim + inside;
  }

  private static String dataPath(
      String role,
      DataSource source,
      Map<String, String> data,
      List<Volume> volumes,
      List<VolumeMount> mounts,
      List<String> claims) {
    String file = role + ".jsonl";
    if (source.inline != null) {
      data.put(file, source.inline);
      return CONFIG_DIR + "/" + file;
    }
    if (source.configMapRef != null) {
      String volume = "dataset-" + role;
      String key = source.configMapRef.key == null ? "data.jsonl" : source.configMapRef.key;
      volumes.add(
          new VolumeBuilder()
              .withName(volume)
              .withNewConfigMap()
              .withName(source.configMapRef.name)
              .addNewItem()
              .withKey(key)
              .withPath(file)
              .endItem()
              .endConfigMap()
              .build());
      mounts.add(
          new VolumeMountBuilder()
              .withName(volume)
              .withMountPath(DATA_ROOT + "/" + role)
              .withReadOnly(true)
              .build());
      return DATA_ROOT + "/" + role + "/" + file;
    }
    return path(source.uri, claims);
  }

  private static TrainerConfig.Method method(MethodSpec method) {
    MethodSpec m = method == null ? new MethodSpec() : method;
    MethodSpec.Type type = m.type == null ? MethodSpec.Type.LORA : m.type;
    LoraSpec lora = type.usesLora() ? (m.lora == null ? new LoraSpec() : m.lora) : null;
    return new TrainerConfig.Method(
        type.value(),
        lora == null ? null : lora.rank,
        lora == null ? null : lora.alpha,
        lora == null ? null : lora.dropout,
        lora == null ? null : List.copyOf(lora.targetModules),
        lora == null ? null : lora.useRslora,
        m.quantization == null ? null : "nf4",
        m.quantization == null ? null : m.quantization.doubleQuant,
        m.partial == null ? null : m.partial.trainableLayers,
        null);
  }

  private static TrainerConfig.Hyperparameters hyperparameters(Hyperparameters hp) {
    Hyperparameters h = hp == null ? new Hyperparameters() : hp;
    return new TrainerConfig.Hyperparameters(
        decimal(h.epochs),
        h.maxSteps,
        integer(h.batchSize),
        integer(h.gradientAccumulationSteps),
        decimal(h.learningRate),
        h.lrScheduler == null ? null : h.lrScheduler.value(),
        decimal(h.warmupRatio),
        h.weightDecay,
        h.maxGradNorm,
        integer(h.maxSeqLength),
        h.packing,
        h.seed,
        integer(h.evalEverySteps),
        h.precision == null || h.precision == Hyperparameters.Precision.AUTO
            ? null
            : h.precision.value());
  }

  private static TrainerConfig.Checkpointing checkpointing(CheckpointingSpec c) {
    CheckpointingSpec cp = c == null ? new CheckpointingSpec() : c;
    return new TrainerConfig.Checkpointing(
        cp.everySteps,
        cp.keepLast,
        (cp.resume == null ? CheckpointingSpec.Resume.Auto : cp.resume).name());
  }

  /** Null means auto: the contract leaves auto values to the trainer. */
  private static Double decimal(String value) {
    return value == null || value.equals(Hyperparameters.AUTO) ? null : Double.valueOf(value);
  }

  private static Integer integer(IntOrString value) {
    return value == null || value.getIntVal() == null ? null : value.getIntVal();
  }
}
