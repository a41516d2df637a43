package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.kubetune.operator.api.v1alpha1.DataSource;
import io.kubetune.operator.api.v1alpha1.DatasetSpec;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobSpec;
import io.kubetune.operator.api.v1alpha1.Hyperparameters;
import io.kubetune.operator.api.v1alpha1.LoraSpec;
import io.kubetune.operator.api.v1alpha1.MethodSpec;
import io.kubetune.operator.api.v1alpha1.ModelSource;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks a FineTuneJob spec before anything is scheduled. The CRD's schema and CEL rules reject
 * most of these at admission already; the operator checks again because objects may come from an
 * API server that skipped them (CEL needs Kubernetes 1.25+, and the operator may be newer than the
 * installed CRD), and because some rules (name lengths) are simpler to state here.
 */
public final class SpecValidator {
  /** Longest FineTuneJob name: child Job names add up to 9 characters and must stay within 63. */
  public static final int MAX_NAME_LENGTH = 52;

  private static final Pattern MODEL_URI = Pattern.compile(ModelSource.URI_PATTERN);
  private static final Pattern DATA_URI = Pattern.compile(DataSource.URI_PATTERN);
  private static final Pattern DECIMAL_OR_AUTO = Pattern.compile(Hyperparameters.DECIMAL_OR_AUTO);
  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  private static final Pattern DNS_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");

  private SpecValidator() {}

  /** All problems of {@code job}'s spec, most fundamental first; empty when it can run. */
  public static List<SpecProblem> validate(FineTuneJob job) {
    List<SpecProblem> problems = new ArrayList<>();
    String name = job.getMetadata().getName();
    if (name != null && name.length() > MAX_NAME_LENGTH) {
      problems.add(
          new SpecProblem(
              "metadata.name",
              "is "
                  + name.length()
                  + " characters long; use at most "
                  + MAX_NAME_LENGTH
                  + " so the trainer Job and pod names fit Kubernetes' 63-character limit"));
    }
    FineTuneJobSpec spec = job.getSpec();
    if (spec == null) {
      problems.add(new SpecProblem("spec", "is missing; set baseModel and dataset"));
      return problems;
    }
    model(spec.baseModel, problems);
    dataset(spec.dataset, problems);
    method(spec.method, problems);
    hyperparameters(spec.hyperparameters, problems);
    if (spec.checkpointing != null) {
      min("spec.checkpointing.everySteps", spec.checkpointing.everySteps, 1, problems);
      min("spec.checkpointing.keepLast", spec.checkpointing.keepLast, 1, problems);
    }
    if (spec.resources != null) {
      if (spec.resources.gpus != null && (spec.resources.gpus < 0 || spec.resources.gpus > 16)) {
        problems.add(
            new SpecProblem(
                "spec.resources.gpus", "must be between 0 and 16, not " + spec.resources.gpus));
      }
      if (spec.resources.gpuResourceName == null || spec.resources.gpuResourceName.isBlank()) {
        problems.add(
            new SpecProblem(
                "spec.resources.gpuResourceName", "must name a resource such as nvidia.com/gpu"));
      }
    }
    if (spec.output != null && spec.output.volume != null) {
      String claim = spec.output.volume.claimName;
      if (claim == null || !DNS_NAME.matcher(claim).matches()) {
        problems.add(
            new SpecProblem(
                "spec.output.volume.claimName",
                "must name a PersistentVolumeClaim in this namespace, not '" + claim + "'"));
      }
      String subPath = spec.output.volume.subPath;
      if (subPath != null && (subPath.startsWith("/") || subPath.contains(".."))) {
        problems.add(
            new SpecProblem(
                "spec.output.volume.subPath",
                "must be a relative folder without '..', such as team-a/adapters"));
      }
    }
    if (spec.queueName != null && !DNS_LABEL.matcher(spec.queueName).matches()) {
      problems.add(
          new SpecProblem(
              "spec.queueName", "must name a Kueue LocalQueue, not '" + spec.queueName + "'"));
    }
    min("spec.backoffLimit", spec.backoffLimit, 0, problems);
    if (spec.activeDeadlineSeconds != null && spec.activeDeadlineSeconds < 1) {
      problems.add(
          new SpecProblem(
              "spec.activeDeadlineSeconds", "must be at least 1 second; remove it for no limit"));
    }
    return problems;
  }

  private static void model(ModelSource model, List<SpecProblem> problems) {
    if (model == null || model.uri == null) {
      problems.add(
          new SpecProblem(
              "spec.baseModel.uri", "is required: hf://org/name or pvc://claim/path/to/model"));
      return;
    }
    if (!MODEL_URI.matcher(model.uri).matches()) {
      problems.add(
          new SpecProblem(
              "spec.baseModel.uri",
              "'"
                  + model.uri
                  + "' is not supported; use hf://org/name (Hugging Face Hub) or"
                  + " pvc://claim/path (a model folder on a PersistentVolumeClaim)"));
    }
    if (model.secretRef != null
        && (model.secretRef.name == null || !DNS_NAME.matcher(model.secretRef.name).matches())) {
      problems.add(
          new SpecProblem(
              "spec.baseModel.secretRef.name",
              "must name a Secret in this namespace, not '" + model.secretRef.name + "'"));
    }
  }

  private static void dataset(DatasetSpec dataset, List<SpecProblem> problems) {
    if (dataset == null || dataset.train == null) {
      problems.add(
          new SpecProblem(
              "spec.dataset.train", "is required: set one of uri, configMapRef or inline"));
      return;
    }
    source("spec.dataset.train", dataset.train, problems);
    if (dataset.validation != null) {
      source("spec.dataset.validation", dataset.validation, problems);
      if (dataset.validationSplit != null) {
        problems.add(
            new SpecProblem(
                "spec.dataset.validationSplit",
                "set either spec.dataset.validation or spec.dataset.validationSplit, not both"));
      }
    }
    if (dataset.validationSplit != null
        && (dataset.validationSplit < 0 || dataset.validationSplit > 0.5)) {
      problems.add(
          new SpecProblem(
              "spec.dataset.validationSplit",
              "must be between 0 and 0.5, not " + dataset.validationSplit));
    }
    if (dataset.checks != null) {
      min("spec.dataset.checks.minExamples", dataset.checks.minExamples, 1, problems);
      min(
          "spec.dataset.checks.maxTokensPerExample",
          dataset.checks.maxTokensPerExample,
          1,
          problems);
    }
  }

  private static void source(String field, DataSource source, List<SpecProblem> problems) {
    int set =
        (source.uri != null ? 1 : 0)
            + (source.configMapRef != null ? 1 : 0)
            + (source.inline != null ? 1 : 0);
    if (set != 1) {
      problems.add(
          new SpecProblem(
              field, "set exactly one of uri, configMapRef or inline (" + set + " are set)"));
      return;
    }
    if (source.uri != null && !DATA_URI.matcher(source.uri).matches()) {
      problems.add(
          new SpecProblem(
              field + ".uri",
              "'"
                  + source.uri
                  + "' is not supported; use pvc://claim/path/file.jsonl or"
                  + " hf://org/dataset/file.jsonl, or put small data in configMapRef or inline"));
    }
    if (source.configMapRef != null
        && (source.configMapRef.name == null
            || !DNS_NAME.matcher(source.configMapRef.name).matches())) {
      problems.add(
          new SpecProblem(
              field + ".configMapRef.name",
              "must name a ConfigMap in this namespace, not '" + source.configMapRef.name + "'"));
    }
    if (source.inline != null && source.inline.isBlank()) {
      problems.add(new SpecProblem(field + ".inline", "is empty; put one JSON example per line"));
    }
  }

  private static void method(MethodSpec method, List<SpecProblem> problems) {
    if (method == null) {
      return;
    }
    MethodSpec.Type type = method.type == null ? MethodSpec.Type.LORA : method.type;
    if (type == MethodSpec.Type.QLORA && method.quantization == null) {
      problems.add(
          new SpecProblem(
              "spec.method.quantization",
              "type qlora needs quantization; add quantization: {type: nf4}"));
    }
    if (type != MethodSpec.Type.QLORA && method.quantization != null) {
      problems.add(
          new SpecProblem(
              "spec.method.quantization",
              "is only used by type qlora; remove it or set type: qlora"));
    }
    if (type == MethodSpec.Type.PARTIAL
        && (method.partial == null || method.partial.trainableLayers == null)) {
      problems.add(
          new SpecProblem(
              "spec.method.partial.trainableLayers",
              "type partial needs partial.trainableLayers (how many top layers train)"));
    }
    if (type != MethodSpec.Type.PARTIAL && method.partial != null) {
      problems.add(
          new SpecProblem("spec.method.partial", "is only used by type partial; remove it"));
    }
    if (method.partial != null && method.partial.trainableLayers != null) {
      min("spec.method.partial.trainableLayers", method.partial.trainableLayers, 1, problems);
    }
    if (!type.usesLora() && method.lora != null) {
      problems.add(
          new SpecProblem("spec.method.lora", "is only used by types lora and qlora; remove it"));
    }
    LoraSpec lora = method.lora;
    if (lora == null) {
      return;
    }
    if (lora.rank != null && (lora.rank < 1 || lora.rank > 512)) {
      problems.add(
          new SpecProblem(
              "spec.method.lora.rank",
              "must be between 1 and 512, not " + lora.rank + "; 8 or 16 suit most tasks"));
    }
    if (lora.alpha != null && (!(lora.alpha > 0) || lora.alpha > 4096)) {
      problems.add(
          new SpecProblem(
              "spec.method.lora.alpha",
              "must be above 0 and at most 4096, not " + lora.alpha + "; twice the rank is usual"));
    }
    if (lora.dropout != null && (lora.dropout < 0 || lora.dropout >= 1)) {
      problems.add(
          new SpecProblem("spec.method.lora.dropout", "must be in [0, 1), not " + lora.dropout));
    }
    if (lora.targetModules != null) {
      if (lora.targetModules.isEmpty()) {
        problems.add(
            new SpecProblem(
                "spec.method.lora.targetModules", "must name at least one module, e.g. q_proj"));
      }
      for (String module : lora.targetModules) {
        if (!LoraSpec.KNOWN_MODULES.contains(module)) {
          problems.add(
              new SpecProblem(
                  "spec.method.lora.targetModules",
                  "'"
                      + module
                      + "' is not a module of Llama-family models; use "
                      + String.join(", ", LoraSpec.KNOWN_MODULES)));
        }
      }
    }
  }

  private static void hyperparameters(Hyperparameters hp, List<SpecProblem> problems) {
    if (hp == null) {
      return;
    }
    decimal("spec.hyperparameters.epochs", hp.epochs, 0, false, Double.MAX_VALUE, problems);
    decimal("spec.hyperparameters.learningRate", hp.learningRate, 0, false, 1, problems);
    decimal("spec.hyperparameters.warmupRatio", hp.warmupRatio, 0, true, 0.999, problems);
    positiveOrAuto("spec.hyperparameters.batchSize", hp.batchSize, problems);
    positiveOrAuto(
        "spec.hyperparameters.gradientAccumulationSteps", hp.gradientAccumulationSteps, problems);
    positiveOrAuto("spec.hyperparameters.maxSeqLength", hp.maxSeqLength, problems);
    positiveOrAuto("spec.hyperparameters.evalEverySteps", hp.evalEverySteps, problems);
    if (hp.maxSteps != null && hp.maxSteps < 1) {
      problems.add(
          new SpecProblem(
              "spec.hyperparameters.maxSteps", "must be at least 1; remove it to use epochs"));
    }
    if (hp.weightDecay != null && (hp.weightDecay < 0 || hp.weightDecay > 1)) {
      problems.add(
          new SpecProblem(
              "spec.hyperparameters.weightDecay",
              "must be between 0 and 1, not " + hp.weightDecay));
    }
    if (hp.maxGradNorm != null && hp.maxGradNorm < 0) {
      problems.add(
          new SpecProblem(
              "spec.hyperparameters.maxGradNorm", "must be 0 (no clipping) or positive"));
    }
  }

  private static void decimal(
      String field,
      String value,
      double low,
      boolean lowInclusive,
      double high,
      List<SpecProblem> problems) {
    if (value == null || value.equals(Hyperparameters.AUTO)) {
      return;
    }
    if (!DECIMAL_OR_AUTO.matcher(value).matches()) {
      problems.add(
          new SpecProblem(
              field, "'" + value + "' must be a decimal number such as \"2e-4\" or \"auto\""));
      return;
    }
    double d = Double.parseDouble(value);
    boolean aboveLow = lowInclusive ? d >= low : d > low;
    if (!aboveLow || d > high) {
      problems.add(
          new SpecProblem(
              field,
              value
                  + " is out of range: it must be "
                  + (lowInclusive ? "at least " : "above ")
                  + low
                  + (high == Double.MAX_VALUE ? "" : " and at most " + high)));
    }
  }

  private static void positiveOrAuto(String field, IntOrString value, List<SpecProblem> problems) {
    if (value == null) {
      return;
    }
    if (value.getIntVal() != null) {
      if (value.getIntVal() < 1) {
        problems.add(new SpecProblem(field, "must be at least 1 or \"auto\""));
      }
    } else if (!Hyperparameters.AUTO.equals(value.getStrVal())) {
      problems.add(
          new SpecProblem(
              field, "'" + value.getStrVal() + "' must be a positive integer or \"auto\""));
    }
  }

  private static void min(String field, Number value, long min, List<SpecProblem> problems) {
    if (value != null && value.longValue() < min) {
      problems.add(new SpecProblem(field, "must be at least " + min + ", not " + value));
    }
  }
}
