package io.kubetune.trainer.source;

import io.kubetune.contract.TrainerConfig;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns {@link TrainerConfig.BaseModel} into a local folder holding the model files: a local path
 * (the operator mounts {@code pvc://} URIs and passes their mount path) is checked and used in
 * place, an {@code hf://org/name[@revision]} reference is downloaded through {@link HubClient} into
 * {@code cacheDir}.
 */
public final class ModelSource {
  /** Environment variable that overrides the hub endpoint (as in the Python hub client). */
  public static final String HF_ENDPOINT_ENV = "HF_ENDPOINT";

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final Map<String, String> env;
  private final Function<HubClient.Builder, HubClient.Builder> customizer;

  /**
   * Creates a model source reading the hub endpoint and tokens from {@code env}.
   *
   * @param env environment variables (the process environment in production)
   * @param customizer adjusts each hub client before it is built (tests shorten retries with it)
   */
  public ModelSource(
      Map<String, String> env, Function<HubClient.Builder, HubClient.Builder> customizer) {
    this.env = Map.copyOf(env);
    this.customizer = Objects.requireNonNull(customizer);
  }

  /** A model source over the process environment. */
  public static ModelSource fromSystemEnvironment() {
    return new ModelSource(System.getenv(), b -> b);
  }

  /**
   * Resolves the base model to a local folder, downloading it when needed.
   *
   * @param baseModel the config's base model
   * @param scope which files must be present
   * @return the folder with {@code config.json}, {@code tokenizer.json} and, for {@link
   *     HubClient.Scope#ALL}, the safetensors weights
   * @throws ModelSourceException naming what is wrong and how to fix it
   */
  public Path resolve(TrainerConfig.BaseModel baseModel, HubClient.Scope scope) {
    if (baseModel == null || baseModel.uri() == null || baseModel.uri().isBlank()) {
      throw new ModelSourceException(
          "baseModel.uri is empty; set it to hf://org/name or a model folder path");
    }
    String uri = baseModel.uri().strip();
    if (HfRepoRef.isHub(uri)) {
      return fromHub(baseModel, HfRepoRef.parse(uri), scope);
    }
    int scheme = uri.indexOf("://");
    if (scheme > 0) {
      String name = uri.substring(0, scheme);
      if (name.equals("pvc")) {
        throw new ModelSourceException(
            "baseModel.uri: "
                + uri
                + " must be mounted before the trainer runs; the operator passes the mount path,"
                + " locally pass the folder path instead");
      }
      if (!name.equals("file")) {
        throw new ModelSourceException(
            "baseModel.uri: scheme " + name + ":// is not supported; use hf:// or a folder path");
      }
      uri = uri.substring(scheme + 3);
    }
    Path dir;
    try {
      dir = Path.of(uri);
    } catch (InvalidPathException e) {
      throw new ModelSourceException("baseModel.uri: '" + uri + "' is not a valid path", e);
    }
    checkLocalFolder(dir, scope);
    return dir;
  }

  private Path fromHub(TrainerConfig.BaseModel baseModel, HfRepoRef ref, HubClient.Scope scope) {
    String revision = ref.revision();
    if (baseModel.revision() != null && !baseModel.revision().isBlank()) {
      if (revision != null && !revision.equals(baseModel.revision())) {
        throw new ModelSourceException(
            "baseModel.revision '"
                + baseModel.revision()
                + "' contradicts the @"
                + revision
                + " in baseModel.uri; keep only one of them");
      }
      revision = baseModel.revision();
    }
    String token = null;
    if (baseModel.tokenEnv() != null && !baseModel.tokenEnv().isBlank()) {
      String name = baseModel.tokenEnv();
      if (!ENV_NAME.matcher(name).matches()) {
        throw new ModelSourceException(
            "baseModel.tokenEnv: '" + name + "' is not an environment variable name");
      }
      token = env.get(name);
      if (token == null || token.isBlank()) {
        throw new ModelSourceException(
            "baseModel.tokenEnv: environment variable "
                + name
                + " is empty or not set; check the Secret named by spec.baseModel.secretRef");
      }
    }
    HubClient.Builder builder =
        HubClient.builder()
            .setCacheDir(cacheDir(baseModel))
            .optEndpoint(env.getOrDefault(HF_ENDPOINT_ENV, HubClient.DEFAULT_ENDPOINT))
            .optToken(token);
    return customizer.apply(builder).build().download(ref.repo(), revision, scope);
  }

  private static Path cacheDir(TrainerConfig.BaseModel baseModel) {
    if (baseModel.cacheDir() != null && !baseModel.cacheDir().isBlank()) {
      return Path.of(baseModel.cacheDir());
    }
    // Without a configured cache (local runs) use the user's cache like other hub clients do.
    return Path.of(System.getProperty("user.home"), ".cache", "kubetune", "hub");
  }

  /**
   * Checks that a local model folder holds what the trainer reads.
   *
   * @throws ModelSourceException listing the missing files
   */
  static void checkLocalFolder(Path dir, HubClient.Scope scope) {
    if (!Files.isDirectory(dir)) {
      throw new ModelSourceException(
          "baseModel.uri: model folder "
              + dir
              + " does not exist or is not a folder; check the path or the volume mount");
    }
    List<String> missing = new ArrayList<>();
    for (String f : List.of("config.json", "tokenizer.json")) {
      if (!Files.isRegularFile(dir.resolve(f))) {
        missing.add(f);
      }
    }
    if (scope == HubClient.Scope.ALL
        && !Files.isRegularFile(dir.resolve(HubClient.SINGLE_WEIGHTS))
        && !Files.isRegularFile(dir.resolve(HubClient.WEIGHTS_INDEX))) {
      missing.add(HubClient.SINGLE_WEIGHTS + " (or " + HubClient.WEIGHTS_INDEX + ")");
    }
    if (!missing.isEmpty()) {
      throw new ModelSourceException(
          "baseModel.uri: model folder "
              + dir
              + " lacks "
              + String.join(", ", missing)
              + "; it must hold a Hugging Face model saved with safetensors");
    }
  }
}
