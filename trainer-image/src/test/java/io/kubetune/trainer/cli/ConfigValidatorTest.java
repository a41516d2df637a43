package io.kubetune.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigValidatorTest {
  @TempDir Path dir;

  private List<String> problems(ConfigFixture f, ConfigValidator.Purpose purpose) {
    return ConfigValidator.validate(f.load(), purpose).stream()
        .map(ConfigProblem::toString)
        .toList();
  }

  private String only(ConfigFixture f) {
    List<String> p = problems(f, ConfigValidator.Purpose.TRAIN);
    assertEquals(1, p.size(), p.toString());
    return p.get(0);
  }

  private ConfigFixture valid() {
    return ConfigFixture.valid(dir);
  }

  @Test
  void validConfigHasNoProblems() {
    assertEquals(List.of(), problems(valid(), ConfigValidator.Purpose.TRAIN));
  }

  @Test
  void rankMustBeBetween1And512() {
    assertEquals(
        "method.rank: must be between 1 and 512, got 0; use a LoRA rank such as 8 or 16",
        only(valid().set("method.rank", 0)));
    assertTrue(only(valid().set("method.rank", 513)).startsWith("method.rank: "));
    assertEquals(
        List.of(), problems(valid().set("method.rank", 512), ConfigValidator.Purpose.TRAIN));
  }

  @Test
  void learningRateMustBePositive() {
    assertEquals(
        "hyperparameters.learningRate: must be > 0 and < 1, got -0.001; use e.g. 0.0002 for LoRA",
        only(valid().set("hyperparameters.learningRate", -0.001)));
    assertTrue(only(valid().set("hyperparameters.learningRate", 0)).contains("got 0;"));
  }

  @Test
  void validationSplitIsAFractionAndExcludesAValidationFile() {
    assertTrue(
        only(valid().set("dataset.validationSplit", 0))
            .startsWith("dataset.validationSplit: must be between 0 and 1"));
    assertTrue(only(valid().set("dataset.validationSplit", 1)).contains("got 1;"));
    ConfigFixture both = valid();
    both.set("dataset.validation", both.dir().resolve("train.jsonl").toString());
    assertTrue(only(both).contains("is set together with dataset.validation"));
  }

  @Test
  void enumeratedValuesListTheAllowedOnes() {
    assertEquals(
        "hyperparameters.lrScheduler: 'cosin' is not allowed; use one of linear, cosine, constant",
        only(valid().set("hyperparameters.lrScheduler", "cosin")));
    assertEquals(
        "dataset.onError: 'fail' is not allowed; write 'Fail' (values are case-sensitive)",
        only(valid().set("dataset.onError", "fail")));
    assertTrue(
        only(valid().set("method.type", "dora")).contains("use one of lora, qlora, full, partial"));
    assertTrue(
        only(valid().set("checkpointing.resume", "Always")).startsWith("checkpointing.resume:"));
    assertTrue(only(valid().set("dataset.format", "sharegpt")).startsWith("dataset.format:"));
  }

  @Test
  void precisionIsAutoFp32OrFp16AndBf16SaysWhy() {
    assertEquals(
        List.of(),
        problems(valid().set("hyperparameters.precision", "fp16"), ConfigValidator.Purpose.TRAIN));
    assertEquals(
        "hyperparameters.precision: 'FP16' is not allowed; write 'fp16' (values are"
            + " case-sensitive)",
        only(valid().set("hyperparameters.precision", "FP16")));
    assertEquals(
        "hyperparameters.precision: 'bf16' is not supported (the PyTorch engine of DJL cannot run"
            + " bf16); use fp16 (mixed precision with loss scaling) or fp32",
        only(valid().set("hyperparameters.precision", "bf16")));
  }

  @Test
  void targetModulesAreLlamaProjections() {
    assertEquals(
        "method.targetModules[1]: unknown module 'qkv'; use q_proj, k_proj, v_proj, o_proj,"
            + " gate_proj, up_proj, down_proj or all-linear",
        only(valid().set("method.targetModules", List.of("q_proj", "qkv"))));
    assertTrue(only(valid().set("method.targetModules", List.of())).contains("is empty"));
    assertTrue(
        only(valid().set("method.targetModules", List.of("all-linear", "q_proj")))
            .contains("cannot be combined"));
  }

  @Test
  void quantizationOnlyWithQlora() {
    assertTrue(
        only(valid().set("method.quantization", "nf4"))
            .contains("only applies to method.type qlora"));
    assertEquals(
        List.of(),
        problems(
            valid().set("method.type", "qlora").set("method.quantization", "nf4"),
            ConfigValidator.Purpose.TRAIN));
  }

  @Test
  void inputFilesMustExist() {
    String p = only(valid().set("dataset.train", dir.resolve("missing.jsonl").toString()));
    assertTrue(p.startsWith("dataset.train: file "), p);
    assertTrue(p.endsWith("does not exist; check the path and the volume mount"), p);
    assertTrue(only(valid().set("dataset.train", dir.toString())).contains("is a folder"));
  }

  @Test
  void requiredFieldsDependOnTheSubcommand() {
    ConfigFixture noOutput = valid().remove("output");
    assertTrue(only(noOutput).startsWith("output.adapterDir: is missing"));
    assertEquals(List.of(), problems(noOutput, ConfigValidator.Purpose.VALIDATE_DATASET));
    assertTrue(only(valid().remove("baseModel")).startsWith("baseModel: is missing"));
    assertTrue(only(valid().remove("dataset.train")).startsWith("dataset.train: is missing"));
  }

  @Test
  void baseModelUriSchemes() {
    assertTrue(only(valid().set("baseModel.uri", "pvc://models/llama")).contains("is not mounted"));
    assertTrue(
        only(valid().set("baseModel.uri", "s3://bucket/llama"))
            .contains("scheme s3:// is not supported"));
    assertTrue(only(valid().set("baseModel.uri", "hf://a/b/c")).startsWith("baseModel.uri: "));
    assertEquals(
        List.of(),
        problems(
            valid().set("baseModel.uri", "hf://meta-llama/Llama-3.2-1B@main"),
            ConfigValidator.Purpose.TRAIN));
    assertTrue(
        only(valid().set("baseModel.uri", "hf://org/m@v1").set("baseModel.revision", "v2"))
            .contains("contradicts"));
    assertTrue(
        only(valid().set("baseModel.tokenEnv", "HF-TOKEN")).startsWith("baseModel.tokenEnv:"));
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    List<String> p =
        problems(
            valid()
                .set("method.rank", 0)
                .set("hyperparameters.learningRate", -1)
                .set("jobName", "Bad_Name"),
            ConfigValidator.Purpose.TRAIN);
    assertEquals(3, p.size(), p.toString());
  }
}
