package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.cli.StopSignal;
import io.kubetune.trainer.export.TrainingReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer CLI end to end on a tiny model: train a LoRA adapter on a chat task (always answer
 * {@link CliRun#ANSWER}), then validate, generate, evaluate and resume through {@code
 * kubetune-trainer} exactly as the pod runs it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerCliTest {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  @TempDir static Path dir;
  private Path model;
  private Path train;
  private Path valid;
  private ObjectNode config;
  private Path configFile;
  private CliRun trained;
  private TrainerResult result;

  @BeforeAll
  void trainOnce() throws IOException {
    model = CliRun.tinyModel(dir.resolve("model"));
    train = CliRun.chatData(dir.resolve("train.jsonl"), 24, 1);
    valid = CliRun.chatData(dir.resolve("valid.jsonl"), 6, 2);
    config = CliRun.trainConfig(model, train, valid, dir.resolve("run"));
    configFile = CliRun.write(dir.resolve("run/job.json"), config);
    trained = CliRun.run(dir, "train", "--config", configFile.toString());
    assertEquals(0, trained.exitCode, trained.stderr);
    result = Contract.read(trained.termination, TrainerResult.class);
  }

  private Path adapterDir() {
    return dir.resolve("run/adapter");
  }

  @Test
  void trainExportsAPeftAdapterAndReportsItsDigest() throws IOException {
    for (String f :
        List.of("adapter_config.json", "adapter_model.safetensors", TrainingReport.FILE)) {
      assertTrue(Files.isRegularFile(adapterDir().resolve(f)), f);
    }
    assertTrue(result.succeeded(), result.message());
    assertEquals(AdapterDigest.of(adapterDir()), result.adapter().digest());
    assertEquals(8, result.adapter().rank());
    assertEquals(model.toString(), result.adapter().baseModel());
    assertEquals(30L, result.steps());
    TrainingReport report = TrainingReport.read(adapterDir());
    assertEquals(result.adapter().digest(), report.adapter().digest());
    assertEquals(30L, report.steps());
  }

  @Test
  void fp16TrainingLearnsAndReportsItsLossScale() throws IOException {
    ObjectNode fp16 = CliRun.trainConfig(model, train, valid, dir.resolve("run-fp16"));
    ((ObjectNode) fp16.get("hyperparameters")).put("precision", "fp16");
    CliRun run =
        CliRun.run(
            dir,
            "train",
            "--config",
            CliRun.write(dir.resolve("run-fp16/job.json"), fp16).toString());
    assertEquals(0, run.exitCode, run.stderr);
    TrainerResult r = Contract.read(run.termination, TrainerResult.class);
    assertTrue(
        r.finalEval().validLoss() < r.baseline().validLoss() / 4,
        r.baseline() + " -> " + r.finalEval());
    // The same run in fp32 ends close by.
    assertEquals(result.finalEval().validLoss(), r.finalEval().validLoss(), 0.05);
    TrainerProgress last = run.progress().get(run.progress().size() - 1);
    assertEquals("fp16", last.resolvedHyperparameters().get("precision"));
    assertNotNull(last.lossScale());
    assertNotNull(last.skippedSteps());
    TrainingReport report = TrainingReport.read(dir.resolve("run-fp16/adapter"));
    assertEquals("fp16", report.hyperparameters().get("precision"));
    assertEquals(last.lossScale(), report.mixedPrecision().lossScale(), 0.0);
    assertEquals(last.skippedSteps(), report.mixedPrecision().skippedSteps());
    System.out.printf(
        "E2E fp16 validation loss %.4f -> %.4f (fp32 %.4f), loss scale %.0f, %d skipped%n",
        r.baseline().validLoss(),
        r.finalEval().validLoss(),
        result.finalEval().validLoss(),
        last.lossScale(),
        last.skippedSteps());
  }

  @Test
  void trainingLowersTheValidationLossBelowTheBaseline() {
    EvalMetrics before = result.baseline();
    EvalMetrics after = result.finalEval();
    System.out.printf(
        "E2E validation loss %.4f -> %.4f, token accuracy %.3f -> %.3f%n",
        before.validLoss(),
        after.validLoss(),
        before.validTokenAccuracy(),
        after.validTokenAccuracy());
    assertTrue(after.validLoss() < before.validLoss() / 4, before + " -> " + after);
    assertTrue(after.validTokenAccuracy() > before.validTokenAccuracy());
  }

  @Test
  void progressJsonLinesCoverEveryStepAndEndSucceeded() {
    List<TrainerProgress> docs = trained.progress();
    assertEquals(TrainerStage.STARTING, docs.get(0).stage());
    assertEquals(TrainerStage.SUCCEEDED, docs.get(docs.size() - 1).stage());
    List<Long> steps =
        docs.stream()
            .filter(p -> p.stage() == TrainerStage.TRAINING && p.step() != null)
            .map(TrainerProgress::step)
            .distinct()
            .toList();
    assertEquals(30, steps.size(), steps.toString());
    TrainerProgress last = docs.get(docs.size() - 1);
    assertEquals(30L, last.step());
    assertEquals(30L, last.totalSteps());
    assertNotNull(last.trainLoss());
    assertNotNull(last.learningRate());
    assertTrue(last.trainedTokens() > 0);
    assertEquals(result.baseline(), last.baseline());
    assertEquals(24L, last.dataset().trainExamples());
    assertEquals(6L, last.dataset().validExamples());
    Map<String, Object> resolved = last.resolvedHyperparameters();
    assertEquals(30, ((Number) resolved.get("totalSteps")).intValue());
    assertEquals(0.01, ((Number) resolved.get("learningRate")).doubleValue());
    assertEquals("fp32", resolved.get("precision"), "auto is fp32 on a CPU");
    assertNull(last.lossScale());
    // Checkpoints every 10 steps, keeping the newest 2 (none after the last step).
    assertEquals(List.of(10L, 20L), last.checkpoints().stream().map(c -> c.step()).toList());
    assertNotNull(last.checkpoints().get(1).validLoss());
    assertTrue(docs.stream().anyMatch(p -> p.stage() == TrainerStage.CHECKPOINTING));
    assertTrue(docs.stream().anyMatch(p -> p.stage() == TrainerStage.EXPORTING));
  }

  @Test
  void generateAnswersWithTheTrainedPhraseOnlyWithTheAdapter() throws IOException {
    String[] base = {
      "generate",
      "--model",
      model.toString(),
      "--chat",
      "--prompt",
      "tell me about the sea",
      "--max-new-tokens",
      "8"
    };
    CliRun plain = CliRun.run(dir, base);
    assertEquals(0, plain.exitCode, plain.stderr);
    String[] withAdapter = new String[base.length + 2];
    System.arraycopy(base, 0, withAdapter, 0, base.length);
    withAdapter[base.length] = "--adapter";
    withAdapter[base.length + 1] = adapterDir().toString();
    CliRun tuned = CliRun.run(dir, withAdapter);
    assertEquals(0, tuned.exitCode, tuned.stderr);

    assertEquals(CliRun.ANSWER, tuned.stdout.strip());
    assertNotEquals(CliRun.ANSWER, plain.stdout.strip());
  }

  @Test
  void evalOfTheExportedAdapterEqualsTheTrainingsFinalEvaluation() throws IOException {
    CliRun tuned =
        CliRun.run(
            dir, "eval", "--config", configFile.toString(), "--adapter", adapterDir().toString());
    assertEquals(0, tuned.exitCode, tuned.stderr);
    EvalMetrics withAdapter = Contract.read(tuned.stdout.strip(), EvalMetrics.class);
    assertEquals(result.finalEval().validLoss(), withAdapter.validLoss(), 1e-6);
    assertEquals(result.finalEval().validTokenAccuracy(), withAdapter.validTokenAccuracy(), 1e-9);

    CliRun plain = CliRun.run(dir, "eval", "--config", configFile.toString());
    assertEquals(0, plain.exitCode, plain.stderr);
    EvalMetrics base = Contract.read(plain.stdout.strip(), EvalMetrics.class);
    assertEquals(result.baseline().validLoss(), base.validLoss(), 1e-6);
  }

  @Test
  void validateDatasetListsBrokenLinesAndExits3() throws IOException {
    Path broken =
        Files.writeString(
            dir.resolve("broken.jsonl"),
            String.join(
                "\n",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"},"
                    + " {\"role\": \"assistant\", \"content\": \"hello\"}]}",
                "{\"messages\": [",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
                "[1, 2]",
                "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"},"
                    + " {\"role\": \"assistant\", \"content\": \"y\"}]}",
                ""));
    ObjectNode cfg = config.deepCopy();
    ((ObjectNode) cfg.get("dataset")).put("train", broken.toString());
    ((ObjectNode) cfg.get("dataset")).put("minExamples", 1);
    Path file = CliRun.write(dir.resolve("broken/job.json"), cfg);

    CliRun run = CliRun.run(dir, "validate-dataset", "--config", file.toString());

    assertEquals(FailureReason.DATASET_INVALID.exitCode(), run.exitCode, run.stderr);
    DatasetReport report = Contract.read(run.termination, DatasetReport.class);
    assertFalse(report.valid());
    assertEquals(
        List.of(
            "2 " + DatasetErrorCode.MALFORMED_JSON,
            "3 " + DatasetErrorCode.NO_ASSISTANT_TURN,
            "4 " + DatasetErrorCode.NOT_AN_OBJECT,
            "5 " + DatasetErrorCode.UNKNOWN_ROLE),
        report.errors().stream().map(e -> e.line() + " " + e.code()).toList());
    assertTrue(run.stderr.contains("line 3: NO_ASSISTANT_TURN"), run.stderr);
  }

  @Test
  void validateDatasetOfTheTrainingDataExits0WithItsCounts() throws IOException {
    CliRun run = CliRun.run(dir, "validate-dataset", "--config", configFile.toString());

    assertEquals(0, run.exitCode, run.stderr);
    DatasetReport report = Contract.read(run.termination, DatasetReport.class);
    assertTrue(report.valid());
    assertEquals(24, report.trainExamples());
    assertEquals(6, report.validExamples());
    assertEquals("chat", report.format());
  }

  @Test
  void aStoppedRunResumesFromItsCheckpointToTheSameAdapter() throws IOException {
    ObjectNode cfg = CliRun.trainConfig(model, train, valid, dir.resolve("stopped"));
    Path file = CliRun.write(dir.resolve("stopped/job.json"), cfg);
    StopSignal stop = new StopSignal();
    CliRun first =
        CliRun.run(
            dir,
            stop,
            line -> {
              // SIGTERM arrives while step 15 runs; the loop sees it after that step.
              if (line.contains("\"step\":15,")) {
                stop.requestStop("SIGTERM");
              }
            },
            "train",
            "--config",
            file.toString());
    assertEquals(143, first.exitCode, first.stderr);
    TrainerResult stopped = Contract.read(first.termination, TrainerResult.class);
    assertFalse(stopped.succeeded());
    assertEquals(null, stopped.failure());
    assertTrue(Files.isRegularFile(dir.resolve("stopped/checkpoints/step-15/trainer_state.json")));
    assertFalse(Files.exists(dir.resolve("stopped/adapter/adapter_model.safetensors")));
    long lastStep =
        first.progress().stream()
            .filter(p -> p.step() != null)
            .mapToLong(TrainerProgress::step)
            .max()
            .orElse(0);
    assertEquals(15, lastStep);

    CliRun second = CliRun.run(dir, "train", "--config", file.toString());
    assertEquals(0, second.exitCode, second.stderr);
    // The resumed run starts at step 16: it never reports an earlier step.
    long firstStep =
        second.progress().stream()
            .filter(p -> p.step() != null)
            .mapToLong(TrainerProgress::step)
            .min()
            .orElse(0);
    assertEquals(16, firstStep);

    Map<String, float[]> resumed =
        CliRun.tensors(dir.resolve("stopped/adapter/adapter_model.safetensors"));
    Map<String, float[]> unbroken =
        CliRun.tensors(adapterDir().resolve("adapter_model.safetensors"));
    double maxDiff = CliRun.maxAbsDiff(unbroken, resumed);
    System.out.printf("resumed vs uninterrupted adapter: max abs diff %.3g%n", maxDiff);
    assertTrue(maxDiff <= 1e-6, "max abs diff " + maxDiff);
    TrainerResult done = Contract.read(second.termination, TrainerResult.class);
    assertEquals(result.baseline().validLoss(), done.baseline().validLoss(), 1e-6);
  }

  @Test
  void aResumedRunExportsTheBestEvaluationFromBeforeTheStop() throws IOException {
    ObjectNode cfg = CliRun.trainConfig(model, train, valid, dir.resolve("best-run"));
    Path file = CliRun.write(dir.resolve("best-run/job.json"), cfg);
    StopSignal stop = new StopSignal();
    CliRun first =
        CliRun.run(
            dir,
            stop,
            line -> {
              if (line.contains("\"step\":15,")) {
                stop.requestStop("SIGTERM");
              }
            },
            "train",
            "--config",
            file.toString());
    assertEquals(143, first.exitCode, first.stderr);
    Path best = dir.resolve("best-run/checkpoints/best");
    ObjectNode state = (ObjectNode) JSON.readTree(best.resolve("best.json").toFile());
    assertEquals(10, state.get("step").asInt());
    // Pretend the evaluation at step 10 beat everything that follows: the resumed run must then
    // export the step-10 weights, although its own evaluations (20, 30) never saw them.
    state.put("validLoss", 1e-9);
    JSON.writeValue(best.resolve("best.json").toFile(), state);

    CliRun second = CliRun.run(dir, "train", "--config", file.toString());

    assertEquals(0, second.exitCode, second.stderr);
    TrainerResult done = Contract.read(second.termination, TrainerResult.class);
    assertEquals(1e-9, done.finalEval().validLoss());
    Map<String, float[]> exported =
        CliRun.tensors(dir.resolve("best-run/adapter/adapter_model.safetensors"));
    Map<String, float[]> step10 = CliRun.tensors(best.resolve("adapter_model.safetensors"));
    Map<String, float[]> unbroken =
        CliRun.tensors(adapterDir().resolve("adapter_model.safetensors"));
    for (String name : step10.keySet()) {
      assertTrue(java.util.Arrays.equals(step10.get(name), exported.get(name)), name);
    }
    assertFalse(
        step10.keySet().stream()
            .allMatch(n -> java.util.Arrays.equals(step10.get(n), unbroken.get(n))),
        "step-10 weights must differ from the final ones, or this test proves nothing");
  }
}
