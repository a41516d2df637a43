package io.kubetune.trainer.cli;

import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.source.HfRepoRef;
import io.kubetune.trainer.source.ModelSourceException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a parsed trainer config before any work starts: required fields per subcommand, value
 * ranges, allowed words and that input files exist. Every problem names the field and how to fix
 * it; all problems are collected so a user fixes them in one round.
 */
public final class ConfigValidator {
  /** What the config is used for; each needs different fields. */
  public enum Purpose {
    /** {@code train}: everything, including output. */
    TRAIN,
    /** {@code validate-dataset}: everything but the output folder. */
    VALIDATE_DATASET,
    /** {@code eval}: everything but the output folder. */
    EVAL
  }

  /** Module names LoRA may target in a Llama-family decoder. */
  public static final Set<String> TARGET_MODULES =
      Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  static final List<String> FORMATS = List.of("auto", "chat", "instruction", "completion", "text");
  static final List<String> ON_ERROR = List.of("Fail", "Warn");
  static final List<String> METHODS = List.of("lora", "qlora", "full", "partial");
  static final List<String> SCHEDULERS = List.of("linear", "cosine", "constant");
  static final List<String> RESUME = List.of("Auto", "Never");
  static final List<String> PRECISIONS = List.of("auto", "fp32", "fp16");

  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern ADAPTER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final List<ConfigProblem> problems = new ArrayList<>();

  private ConfigValidator() {}

  /**
   * Validates a config for a purpose.
   *
   * @throws ConfigException listing every problem
   */
  public static void check(TrainerConfig config, Purpose purpose) {
    List<ConfigProblem> found = validate(config, purpose);
    if (!found.isEmpty()) {
      throw new ConfigException(found);
    }
  }

  /** Returns every problem of a config for a purpose (empty when valid). */
  public static List<ConfigProblem> validate(TrainerConfig config, Purpose purpose) {
    ConfigValidator v = new ConfigValidator();
    v.run(config, purpose);
    return List.copyOf(v.problems);
  }

  private void problem(String field, String problem, String fix) {
    problems.add(new ConfigProblem(field, problem, fix));
  }

  private void run(TrainerConfig c, Purpose purpose) {
    if (c.jobName() != null
        && (!DNS_SUBDOMAIN.matcher(c.jobName()).matches() || c.jobName().length() > 243)) {
      problem(
          "jobName",
          "'" + c.jobName() + "' is not a valid Kubernetes name",
          "use lower-case letters, digits and '-', at most 243 characters");
    }
    if (c.namespace() != null
        && (!DNS_LABEL.matcher(c.namespace()).matches() || c.namespace().length() > 63)) {
      problem(
          "namespace",
          "'" + c.namespace() + "' is not a valid namespace name",
          "use lower-case letters, digits and '-', at most 63 characters");
    }
    baseModel(c.baseModel());
    dataset(c.dataset(), purpose);
    // Every section is checked for every purpose: the validation pod runs before any GPU is
    // requested, so a training setting that cannot work is best reported there already.
    method(c.method());
    hyperparameters(c.hyperparameters());
    if (purpose == Purpose.TRAIN || c.output() != null) {
      output(c.output());
    }
    checkpointing(c.checkpointing());
    progress(c.progress());
  }

  private void baseModel(TrainerConfig.BaseModel m) {
    if (m == null) {
      problem("baseModel", "is missing", "set baseModel.uri to hf://org/name or a model folder");
      return;
    }
    if (m.uri() == null || m.uri().isBlank()) {
      problem("baseModel.uri", "is missing", "set it to hf://org/name or a model folder path");
      return;
    }
    String uri = m.uri().strip();
    if (HfRepoRef.isHub(uri)) {
      try {
        HfRepoRef ref = HfRepoRef.parse(uri);
        if (ref.revision() != null
            && m.revision() != null
            && !ref.revision().equals(m.revision())) {
          problem(
              "baseModel.revision",
              "'" + m.revision() + "' contradicts the @" + ref.revision() + " in baseModel.uri",
              "keep only one of them");
        }
      } catch (ModelSourceException e) {
        String msg = e.getMessage();
        int colon = msg.indexOf(": ");
        String detail = colon >= 0 ? msg.substring(colon + 2) : msg;
        int semi = detail.lastIndexOf("; ");
        problem(
            "baseModel.uri",
            semi >= 0 ? detail.substring(0, semi) : detail,
            semi >= 0 ? detail.substring(semi + 2) : "write hf://org/name[@revision]");
      }
    } else if (uri.contains("://") && !uri.startsWith("file://")) {
      String scheme = uri.substring(0, uri.indexOf("://"));
      if (scheme.equals("pvc")) {
        problem(
            "baseModel.uri",
            uri + " is not mounted",
            "the operator mounts pvc:// models and passes the mount path; locally pass the folder");
      } else {
        problem(
            "baseModel.uri",
            "scheme " + scheme + ":// is not supported",
            "use hf://org/name or a model folder path");
      }
    } else if (m.revision() != null) {
      problem(
          "baseModel.revision",
          "only applies to hf:// models",
          "remove it or use an hf:// baseModel.uri");
    }
    if (m.revision() != null && m.revision().isBlank()) {
      problem("baseModel.revision", "is empty", "name a branch, tag or commit, or remove it");
    }
    if (m.tokenEnv() != null && !ENV_NAME.matcher(m.tokenEnv()).matches()) {
      problem(
          "baseModel.tokenEnv",
          "'" + m.tokenEnv() + "' is not an environment variable name",
          "use letters, digits and '_', e.g. HF_TOKEN");
    }
    if (m.cacheDir() != null) {
      pathSyntax("baseModel.cacheDir", m.cacheDir());
    }
  }

  private void dataset(TrainerConfig.Dataset d, Purpose purpose) {
    if (d == null) {
      problem("dataset", "is missing", "set dataset.train to the training JSONL file");
      return;
    }
    if (d.train() == null || d.train().isBlank()) {
      problem("dataset.train", "is missing", "set it to the path of the training JSONL file");
    } else {
      existingFile("dataset.train", d.train());
    }
    if (d.validation() != null) {
      existingFile("dataset.validation", d.validation());
      if (d.validationSplit() != null) {
        problem(
            "dataset.validationSplit",
            "is set together with dataset.validation",
            "set either a validation file or a split of the training data, not both");
      }
    }
    if (d.validationSplit() != null && !(d.validationSplit() > 0 && d.validationSplit() < 1)) {
      problem(
          "dataset.validationSplit",
          "must be between 0 and 1 (exclusive), got " + num(d.validationSplit()),
          "use a fraction such as 0.1");
    }
    oneOf("dataset.format", d.format(), FORMATS);
    oneOf("dataset.onError", d.onError(), ON_ERROR);
    if (d.chatTemplate() != null && d.chatTemplate().isBlank()) {
      problem(
          "dataset.chatTemplate",
          "is empty",
          "remove it to use the tokenizer's template, or give a Jinja template");
    }
    atLeast("dataset.minExamples", d.minExamples(), 1, "use 1 or more");
    atLeast("dataset.maxTokensPerExample", d.maxTokensPerExample(), 1, "use 1 or more");
  }

  private void method(TrainerConfig.Method m) {
    if (m == null) {
      return; // lora with defaults
    }
    String type = m.type() == null ? "lora" : m.type();
    oneOf("method.type", m.type(), METHODS);
    if (m.rank() != null && (m.rank() < 1 || m.rank() > 512)) {
      problem(
          "method.rank",
          "must be between 1 and 512, got " + m.rank(),
          "use a LoRA rank such as 8 or 16");
    }
    if (m.alpha() != null && !(m.alpha() > 0 && Double.isFinite(m.alpha()))) {
      problem("method.alpha", "must be > 0, got " + num(m.alpha()), "use e.g. twice the rank");
    }
    if (m.dropout() != null && !(m.dropout() >= 0 && m.dropout() < 1)) {
      problem(
          "method.dropout",
          "must be in [0, 1), got " + num(m.dropout()),
          "use 0 to disable or e.g. 0.05");
    }
    if (m.targetModules() != null) {
      List<String> t = m.targetModules();
      if (t.isEmpty()) {
        problem(
            "method.targetModules",
            "is empty",
            "list modules such as [q_proj, v_proj] or use [all-linear]");
      } else if (t.contains("all-linear") && t.size() > 1) {
        problem(
            "method.targetModules",
            "all-linear cannot be combined with other modules",
            "use [all-linear] alone or list modules");
      } else {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < t.size(); i++) {
          String name = t.get(i);
          if (!name.equals("all-linear") && !TARGET_MODULES.contains(name)) {
            problem(
                "method.targetModules[" + i + "]",
                "unknown module '" + name + "'",
                "use q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or all-linear");
          } else if (!seen.add(name)) {
            problem(
                "method.targetModules[" + i + "]",
                "'" + name + "' is listed twice",
                "list it once");
          }
        }
      }
    }
    if (m.quantization() != null) {
      if (!m.quantization().equals("nf4")) {
        problem(
            "method.quantization",
            "'" + m.quantization() + "' is not supported",
            "use nf4 (or remove it)");
      }
      if (!type.equals("qlora")) {
        problem(
            "method.quantization",
            "only applies to method.type qlora, not " + type,
            "remove it or set method.type to qlora");
      }
    }
    if (m.doubleQuant() != null && m.doubleQuant() && !type.equals("qlora")) {
      problem(
          "method.doubleQuant",
          "only applies to method.type qlora, not " + type,
          "remove it or set method.type to qlora");
    }
    atLeast("method.trainableLayers", m.trainableLayers(), 1, "use 1 or more");
    if ((m.trainableLayers() != null || m.trainableModules() != null) && !type.equals("partial")) {
      problem(
          m.trainableLayers() != null ? "method.trainableLayers" : "method.trainableModules",
          "only applies to method.type partial, not " + type,
          "remove it or set method.type to partial");
    }
    if (m.trainableModules() != null && m.trainableModules().isEmpty()) {
      problem("method.trainableModules", "is empty", "list module names or remove it");
    }
    if (type.equals("partial") && m.trainableLayers() == null && m.trainableModules() == null) {
      problem(
          "method.trainableLayers",
          "method.type partial needs trainableLayers or trainableModules",
          "set trainableLayers (e.g. 2: the top two layers train) or list trainableModules");
    }
    if (type.equals("full") || type.equals("partial")) {
      // LoRA settings on a method without an adapter are a mistake the user should hear about.
      String loraField =
          m.rank() != null
              ? "method.rank"
              : m.alpha() != null
                  ? "method.alpha"
                  : m.dropout() != null
                      ? "method.dropout"
                      : m.targetModules() != null
                          ? "method.targetModules"
                          : m.useRslora() != null ? "method.useRslora" : null;
      if (loraField != null) {
        problem(
            loraField,
            "only applies to method.type lora or qlora, not " + type,
            "remove it or set method.type to lora");
      }
    }
  }

  private void hyperparameters(TrainerConfig.Hyperparameters h) {
    if (h == null) {
      return;
    }
    if (h.epochs() != null && !(h.epochs() > 0 && h.epochs() <= 10_000)) {
      problem("hyperparameters.epochs", "must be > 0, got " + num(h.epochs()), "use e.g. 3");
    }
    if (h.maxSteps() != null && h.maxSteps() < 1) {
      problem(
          "hyperparameters.maxSteps",
          "must be 1 or more, got " + h.maxSteps(),
          "remove it to train for hyperparameters.epochs");
    }
    between("hyperparameters.batchSize", h.batchSize(), 1, 4096, "use e.g. 4");
    between(
        "hyperparameters.gradientAccumulationSteps",
        h.gradientAccumulationSteps(),
        1,
        4096,
        "use 1 to disable accumulation");
    if (h.learningRate() != null && !(h.learningRate() > 0 && h.learningRate() < 1)) {
      problem(
          "hyperparameters.learningRate",
          "must be > 0 and < 1, got " + num(h.learningRate()),
          "use e.g. 0.0002 for LoRA");
    }
    oneOf("hyperparameters.lrScheduler", h.lrScheduler(), SCHEDULERS);
    if (h.warmupRatio() != null && !(h.warmupRatio() >= 0 && h.warmupRatio() < 1)) {
      problem(
          "hyperparameters.warmupRatio",
          "must be in [0, 1), got " + num(h.warmupRatio()),
          "use e.g. 0.03");
    }
    nonNegative("hyperparameters.weightDecay", h.weightDecay(), "use 0 to disable");
    nonNegative("hyperparameters.maxGradNorm", h.maxGradNorm(), "use 0 to disable clipping");
    between("hyperparameters.maxSeqLength", h.maxSeqLength(), 8, 131_072, "use e.g. 1024");
    if (h.seed() != null && h.seed() < 0) {
      problem("hyperparameters.seed", "must be 0 or more, got " + h.seed(), "use e.g. 42");
    }
    atLeast("hyperparameters.evalEverySteps", h.evalEverySteps(), 1, "use 1 or more");
    if ("bf16".equalsIgnoreCase(String.valueOf(h.precision()).strip())) {
      problem(
          "hyperparameters.precision",
          "'" + h.precision() + "' is not supported (the PyTorch engine of DJL cannot run bf16)",
          "use fp16 (mixed precision with loss scaling) or fp32");
    } else {
      oneOf("hyperparameters.precision", h.precision(), PRECISIONS);
    }
  }

  private void output(TrainerConfig.Output o) {
    if (o == null || o.adapterDir() == null || o.adapterDir().isBlank()) {
      problem(
          "output.adapterDir",
          "is missing",
          "set it to the folder the adapter is written to, e.g. /artifacts/adapters/<job>");
      return;
    }
    notAFile("output.adapterDir", o.adapterDir());
    if (o.checkpointDir() != null) {
      notAFile("output.checkpointDir", o.checkpointDir());
    }
    if (o.adapterName() != null && !ADAPTER_NAME.matcher(o.adapterName()).matches()) {
      problem(
          "output.adapterName",
          "'" + o.adapterName() + "' is not a valid adapter name",
          "use letters, digits, '.', '_' and '-'");
    }
  }

  private void checkpointing(TrainerConfig.Checkpointing c) {
    if (c == null) {
      return;
    }
    atLeast("checkpointing.everySteps", c.everySteps(), 1, "use 1 or more");
    atLeast("checkpointing.keepLast", c.keepLast(), 1, "use 1 or more");
    oneOf("checkpointing.resume", c.resume(), RESUME);
  }

  private void progress(TrainerConfig.Progress p) {
    if (p == null) {
      return;
    }
    if (p.configMap() != null
        && (!DNS_SUBDOMAIN.matcher(p.configMap()).matches() || p.configMap().length() > 253)) {
      problem(
          "progress.configMap",
          "'" + p.configMap() + "' is not a valid ConfigMap name",
          "use lower-case letters, digits, '-' and '.'");
    }
    between("progress.minIntervalSeconds", p.minIntervalSeconds(), 0, 3600, "use e.g. 5");
  }

  // ---------------------------------------------------------------- helpers

  private void oneOf(String field, String value, List<String> allowed) {
    if (value == null || allowed.contains(value)) {
      return;
    }
    String fix = "use one of " + String.join(", ", allowed);
    for (String a : allowed) {
      if (a.equalsIgnoreCase(value.strip())) {
        fix = "write '" + a + "' (values are case-sensitive)";
      }
    }
    problem(field, "'" + value + "' is not allowed", fix);
  }

  private void atLeast(String field, Integer value, int min, String fix) {
    if (value != null && value < min) {
      problem(field, "must be " + min + " or more, got " + value, fix);
    }
  }

  private void between(String field, Integer value, int min, int max, String fix) {
    if (value != null && (value < min || value > max)) {
      problem(field, "must be between " + min + " and " + max + ", got " + value, fix);
    }
  }

  private void nonNegative(String field, Double value, String fix) {
    if (value != null && !(value >= 0 && Double.isFinite(value))) {
      problem(field, "must be 0 or more, got " + num(value), fix);
    }
  }

  private void existingFile(String field, String path) {
    Path p = pathSyntax(field, path);
    if (p == null) {
      return;
    }
    if (Files.isDirectory(p)) {
      problem(field, path + " is a folder, not a file", "point it at the JSONL file");
    } else if (!Files.isRegularFile(p)) {
      problem(field, "file " + path + " does not exist", "check the path and the volume mount");
    } else if (!Files.isReadable(p)) {
      problem(field, "file " + path + " is not readable", "check the file permissions");
    }
  }

  private void notAFile(String field, String path) {
    Path p = pathSyntax(field, path);
    if (p != null && Files.exists(p) && !Files.isDirectory(p)) {
      problem(field, path + " is a file, not a folder", "point it at a folder");
    }
  }

  private Path pathSyntax(String field, String path) {
    try {
      return Path.of(path);
    } catch (InvalidPathException e) {
      problem(field, "'" + path + "' is not a valid path", "fix the path");
      return null;
    }
  }

  private static String num(Double d) {
    if (d == null) {
      return "null";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString(d.longValue());
    }
    return String.format(Locale.ROOT, "%s", d);
  }
}
