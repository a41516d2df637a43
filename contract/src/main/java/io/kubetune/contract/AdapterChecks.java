package io.kubetune.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Checks an adapter folder before it is registered with DJL Serving (design §6): PEFT LoRA for a
 * causal LM, within the server's rank limit, without features vLLM's LoRA does not serve (bias,
 * modules_to_save, DoRA), targeting supported modules, matching the recorded digest, and holding no
 * Python code (DJL Serving would execute a {@code model.py}).
 *
 * <p>The one implementation of these checks: the operator runs it in-process when it can read the
 * artifact store, and the trainer image's {@code check-adapter} command runs it in a pod of the
 * adapter's namespace when it cannot, so both give the same verdict.
 */
public final class AdapterChecks {

  /** Reasons a folder is refused; each becomes the adapter's Failed reason in status. */
  public static final class Reasons {
    public static final String FOLDER_MISSING = "AdapterFolderMissing";
    public static final String CONFIG_MISSING = "AdapterConfigMissing";
    public static final String CONFIG_INVALID = "AdapterConfigInvalid";
    public static final String NOT_LORA = "NotLoraAdapter";
    public static final String WRONG_TASK_TYPE = "WrongTaskType";
    public static final String RANK_TOO_HIGH = "RankTooHigh";
    public static final String BIAS_NOT_SUPPORTED = "BiasNotSupported";
    public static final String MODULES_TO_SAVE_NOT_SUPPORTED = "ModulesToSaveNotSupported";
    public static final String DORA_NOT_SUPPORTED = "DoraNotSupported";
    public static final String UNSUPPORTED_TARGET_MODULES = "UnsupportedTargetModules";
    public static final String WEIGHTS_MISSING = "AdapterWeightsMissing";
    public static final String PICKLE_WEIGHTS = "PickleWeightsRefused";
    public static final String CODE_FOUND = "ExecutableCodeRefused";
    public static final String DIGEST_MISMATCH = "DigestMismatch";
    public static final String UNREADABLE = "AdapterUnreadable";

    private Reasons() {}
  }

  /**
   * Exit code of the trainer's {@code check-adapter} command when the folder is refused (0 when it
   * may be served); the verdict is in the termination message either way.
   */
  public static final int REFUSED_EXIT_CODE = 7;

  private static final ObjectMapper JSON = new ObjectMapper();
  // The folder is user-controlled; a deep tree must not turn a check into a long walk.
  private static final int MAX_DEPTH = 8;

  private final int maxLoraRank;
  private final Set<String> supportedTargetModules;

  /**
   * Creates checks for one serving configuration.
   *
   * @param maxLoraRank the server's {@code option.max_lora_rank}
   * @param supportedTargetModules module names the base model has (e.g. q_proj, v_proj)
   */
  public AdapterChecks(int maxLoraRank, Set<String> supportedTargetModules) {
    this.maxLoraRank = maxLoraRank;
    this.supportedTargetModules = Set.copyOf(supportedTargetModules);
  }

  /**
   * Checks the adapter in {@code folder}.
   *
   * @param expectedDigest the digest recorded for the adapter (from the FineTuneJob status or the
   *     spec); null skips the comparison but the digest is still computed
   */
  public AdapterCheckResult check(Path folder, String expectedDigest) {
    if (!Files.isDirectory(folder)) {
      return AdapterCheckResult.refuse(
          Reasons.FOLDER_MISSING,
          "adapter folder "
              + folder
              + " does not exist on the artifact store; check the path or wait for the"
              + " FineTuneJob to succeed");
    }
    AdapterCheckResult code = refuseCode(folder);
    if (code != null) {
      return code;
    }
    Path configFile = folder.resolve(AdapterDigest.CONFIG_FILE);
    if (!Files.isRegularFile(configFile)) {
      return AdapterCheckResult.refuse(
          Reasons.CONFIG_MISSING,
          AdapterDigest.CONFIG_FILE
              + " is missing in "
              + folder
              + "; point the adapter at a PEFT adapter folder");
    }
    JsonNode config;
    try {
      config = JSON.readTree(Files.readAllBytes(configFile));
    } catch (JsonProcessingException e) {
      return AdapterCheckResult.refuse(
          Reasons.CONFIG_INVALID,
          AdapterDigest.CONFIG_FILE
              + " is not valid JSON ("
              + e.getOriginalMessage()
              + "); re-export the adapter");
    } catch (IOException e) {
      return AdapterCheckResult.refuse(
          Reasons.UNREADABLE, "cannot read " + configFile + ": " + e.getMessage());
    }
    if (config == null || !config.isObject()) {
      return AdapterCheckResult.refuse(
          Reasons.CONFIG_INVALID,
          AdapterDigest.CONFIG_FILE + " must be a JSON object; re-export the adapter");
    }
    // Measured before judging, so a refusal still tells what the adapter is.
    Integer rank = config.path("r").canConvertToInt() ? config.path("r").asInt() : null;
    List<String> modules = new ArrayList<>();
    if (config.path("target_modules").isArray()) {
      config.path("target_modules").forEach(t -> modules.add(t.asText(t.toString())));
    }
    AdapterCheckResult configResult = checkConfig(config);
    if (configResult != null) {
      return measured(configResult, rank, modules, null);
    }
    Path weights = folder.resolve(AdapterDigest.WEIGHTS_FILE);
    if (!Files.isRegularFile(weights)) {
      if (Files.exists(folder.resolve("adapter_model.bin"))) {
        return measured(
            AdapterCheckResult.refuse(
                Reasons.PICKLE_WEIGHTS,
                "adapter_model.bin (pickle, can execute code when loaded) is refused; save the"
                    + " adapter with safetensors (PEFT save_pretrained(safe_serialization=True))"),
            rank,
            modules,
            null);
      }
      return measured(
          AdapterCheckResult.refuse(
              Reasons.WEIGHTS_MISSING,
              AdapterDigest.WEIGHTS_FILE + " is missing in " + folder + "; re-export the adapter"),
          rank,
          modules,
          null);
    }
    String digest;
    try {
      digest = AdapterDigest.of(folder);
    } catch (IOException e) {
      return measured(
          AdapterCheckResult.refuse(
              Reasons.UNREADABLE,
              "cannot read the adapter files in " + folder + ": " + e.getMessage()),
          rank,
          modules,
          null);
    }
    if (expectedDigest != null && !expectedDigest.equals(digest)) {
      return new AdapterCheckResult(
          false,
          Reasons.DIGEST_MISMATCH,
          "adapter files in "
              + folder
              + " have digest "
              + digest
              + " but "
              + expectedDigest
              + " was recorded; the folder changed after training: re-run the FineTuneJob or"
              + " update the expected digest",
          digest,
          rank,
          modules);
    }
    return new AdapterCheckResult(true, null, "adapter checks passed", digest, rank, modules);
  }

  private static AdapterCheckResult measured(
      AdapterCheckResult r, Integer rank, List<String> modules, String digest) {
    return new AdapterCheckResult(r.ok(), r.reason(), r.message(), digest, rank, modules);
  }

  private AdapterCheckResult refuseCode(Path folder) {
    List<String> python = new ArrayList<>();
    try (Stream<Path> files = Files.walk(folder, MAX_DEPTH)) {
      files
          .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".py"))
          .forEach(p -> python.add(folder.relativize(p).toString()));
    } catch (IOException | java.io.UncheckedIOException e) {
      return AdapterCheckResult.refuse(
          Reasons.UNREADABLE, "cannot list adapter folder " + folder + ": " + e.getMessage());
    }
    if (python.isEmpty()) {
      return null;
    }
    python.sort(null);
    boolean modelPy = python.contains("model.py");
    return AdapterCheckResult.refuse(
        Reasons.CODE_FOUND,
        "the adapter folder contains Python code ("
            + String.join(", ", python)
            + ")"
            + (modelPy ? "; DJL Serving would execute model.py" : "")
            + "; an adapter folder must hold only adapter_config.json and"
            + " adapter_model.safetensors: remove the .py files");
  }

  private AdapterCheckResult checkConfig(JsonNode config) {
    String peftType = config.path("peft_type").asText("");
    if (!peftType.equalsIgnoreCase("LORA")) {
      return AdapterCheckResult.refuse(
          Reasons.NOT_LORA,
          "peft_type is '"
              + peftType
              + "' but only LORA adapters can be served; train with method lora or qlora");
    }
    String taskType = config.path("task_type").asText("");
    if (!taskType.equalsIgnoreCase("CAUSAL_LM")) {
      return AdapterCheckResult.refuse(
          Reasons.WRONG_TASK_TYPE,
          "task_type is '" + taskType + "' but a causal LM adapter (CAUSAL_LM) is required");
    }
    JsonNode r = config.get("r");
    if (r == null || !r.canConvertToInt() || r.asInt() < 1) {
      return AdapterCheckResult.refuse(
          Reasons.CONFIG_INVALID, "r (LoRA rank) must be a positive integer, got " + r);
    }
    if (r.asInt() > maxLoraRank) {
      return AdapterCheckResult.refuse(
          Reasons.RANK_TOO_HIGH,
          "adapter rank r="
              + r.asInt()
              + " exceeds the server's maxLoraRank="
              + maxLoraRank
              + "; raise spec.lora.maxLoraRank to at least "
              + r.asInt()
              + " or retrain with a smaller rank");
    }
    String bias = config.path("bias").asText("none");
    if (!bias.equals("none")) {
      return AdapterCheckResult.refuse(
          Reasons.BIAS_NOT_SUPPORTED,
          "bias is '"
              + bias
              + "' but served LoRA adapters cannot train biases; retrain with"
              + " bias: none");
    }
    JsonNode modulesToSave = config.get("modules_to_save");
    if (modulesToSave != null
        && !modulesToSave.isNull()
        && !(modulesToSave.isArray() && modulesToSave.isEmpty())) {
      return AdapterCheckResult.refuse(
          Reasons.MODULES_TO_SAVE_NOT_SUPPORTED,
          "modules_to_save is "
              + modulesToSave
              + " but fully trained modules cannot be hot-loaded; retrain without"
              + " modules_to_save");
    }
    if (config.path("use_dora").asBoolean(false)) {
      return AdapterCheckResult.refuse(
          Reasons.DORA_NOT_SUPPORTED,
          "use_dora is true but DoRA adapters cannot be served; retrain with use_dora: false");
    }
    JsonNode targets = config.get("target_modules");
    if (targets == null || !targets.isArray() || targets.isEmpty()) {
      return AdapterCheckResult.refuse(
          Reasons.UNSUPPORTED_TARGET_MODULES,
          "target_modules must be a non-empty list of module names, got "
              + targets
              + "; patterns such as 'all-linear' cannot be checked, list the modules explicitly");
    }
    Set<String> unsupported = new TreeSet<>();
    for (JsonNode t : targets) {
      if (!t.isTextual() || !supportedTargetModules.contains(t.asText())) {
        unsupported.add(t.asText(t.toString()));
      }
    }
    if (!unsupported.isEmpty()) {
      return AdapterCheckResult.refuse(
          Reasons.UNSUPPORTED_TARGET_MODULES,
          "target_modules "
              + unsupported
              + " are not modules of the base model (supported: "
              + new TreeSet<>(supportedTargetModules)
              + "); retrain with supported target modules");
    }
    return null;
  }
}
