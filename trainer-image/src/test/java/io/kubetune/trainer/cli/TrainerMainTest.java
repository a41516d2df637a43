package io.kubetune.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.AdapterInfo;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetError;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.EvalMetrics;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerResult;
import io.kubetune.contract.TrainerStage;
import io.kubetune.trainer.report.KubernetesEnvironment;
import io.kubetune.trainer.report.TerminationMessage;
import io.kubetune.trainer.source.HubClient;
import io.kubetune.trainer.source.ModelSourceException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class TrainerMainTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final List<HubClient.Scope> resolvedScopes = new ArrayList<>();
  private Path termination;
  private Path modelDir;
  private TrainerServices services;

  @BeforeEach
  void setUp() throws IOException {
    termination = dir.resolve("termination-log");
    modelDir = Files.createDirectories(dir.resolve("resolved-model"));
    services =
        new TrainerServices(
            job -> {
              throw new AssertionError("training not expected");
            },
            (c, m) -> {
              throw new AssertionError("validation not expected");
            },
            r -> {
              throw new AssertionError("generation not expected");
            },
            (c, m, a) -> {
              throw new AssertionError("evaluation not expected");
            },
            (baseModel, scope) -> {
              resolvedScopes.add(scope);
              return modelDir;
            },
            new KubernetesEnvironment(Map.of(), dir.resolve("no-sa"), "http"),
            new TerminationMessage(termination),
            new StopSignal(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private int run(String... args) {
    return TrainerMain.run(services, args);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private List<String> stdoutLines() {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private TrainerResult terminationResult() throws IOException {
    return Contract.read(Files.readString(termination), TrainerResult.class);
  }

  private Path validConfig() {
    return ConfigFixture.valid(dir).writeYaml("job.yaml");
  }

  private static TrainerResult success() {
    return new TrainerResult(
        Contract.SCHEMA_VERSION,
        true,
        null,
        "trained 10 steps",
        new AdapterInfo("/artifacts/adapters/llama-chat", "sha256:abc", 8, "hf://org/m"),
        new EvalMetrics(2.5, 0.3),
        new EvalMetrics(1.5, 0.6),
        1.4,
        10L);
  }

  @Test
  void helpListsTheSubcommandsAndExitsZero() {
    assertEquals(0, run("--help"));
    String help = out.toString(StandardCharsets.UTF_8);
    for (String sub : List.of("train", "validate-dataset", "generate", "eval")) {
      assertTrue(help.contains(sub), help);
    }
    assertEquals(0, run("train", "--help"));
  }

  @Test
  void usageErrorsExit2WithOneLine() {
    assertEquals(2, run());
    assertTrue(stderr().startsWith("error: missing subcommand"), stderr());
    err.reset();
    assertEquals(2, run("train"));
    assertEquals(1, stderr().lines().count(), stderr());
    assertTrue(stderr().contains("Missing required option: '--config=FILE'"), stderr());
  }

  @Test
  void missingConfigFileExits2AndWritesTheTerminationMessage() throws IOException {
    int code = run("train", "--config", dir.resolve("nope.json").toString());

    assertEquals(2, code);
    assertTrue(stderr().startsWith("error: --config: file "), stderr());
    assertEquals(1, stderr().lines().count(), "one line, no stack trace: " + stderr());
    TrainerResult r = terminationResult();
    assertFalse(r.succeeded());
    assertEquals(FailureReason.CONFIG_INVALID, r.failure());
    assertTrue(r.message().contains("nope.json does not exist"));
  }

  @Test
  void unknownFieldExits2NamingTheField() {
    Path cfg = ConfigFixture.valid(dir).set("hyperparameters.epocs", 3).writeJson("job.json");

    assertEquals(2, run("train", "--config", cfg.toString()));
    assertTrue(stderr().contains("unknown field 'epocs' in hyperparameters"), stderr());
  }

  @Test
  void invalidValuesExit2ListingEveryProblem() throws IOException {
    Path cfg =
        ConfigFixture.valid(dir)
            .set("method.rank", 1024)
            .set("hyperparameters.lrScheduler", "step")
            .writeYaml("job.yaml");

    // The validation pod already reports training settings that cannot work.
    assertEquals(2, run("validate-dataset", "--config", cfg.toString()));
    err.reset();
    assertEquals(2, run("train", "--config", cfg.toString()));
    List<String> lines = stderr().lines().toList();
    assertEquals(
        List.of(
            "error: method.rank: must be between 1 and 512, got 1024; use a LoRA rank such as 8 or"
                + " 16",
            "error: hyperparameters.lrScheduler: 'step' is not allowed; use one of linear, cosine,"
                + " constant"),
        lines);
    assertTrue(terminationResult().message().endsWith("(and 1 more problems)"));
  }

  @Test
  void successfulRunExits0ReportsProgressAndWritesTheResult() throws IOException {
    AtomicReference<TrainingJob> seen = new AtomicReference<>();
    services =
        services.withTraining(
            job -> {
              seen.set(job);
              job.progress()
                  .report(
                      new TrainerProgress(
                          Contract.SCHEMA_VERSION,
                          TrainerStage.TRAINING,
                          10L,
                          10L,
                          1.0,
                          5120L,
                          900.0,
                          1.4,
                          1e-5,
                          null,
                          null,
                          null,
                          null,
                          null,
                          null));
              return success();
            });

    assertEquals(0, run("train", "--config", validConfig().toString()));

    assertEquals(modelDir, seen.get().modelDir());
    assertEquals(8, seen.get().config().method().rank());
    assertEquals(List.of(HubClient.Scope.ALL), resolvedScopes);
    List<TrainerStage> stages =
        stdoutLines().stream().map(l -> Contract.read(l, TrainerProgress.class).stage()).toList();
    assertEquals(
        List.of(
            TrainerStage.STARTING,
            TrainerStage.LOADING_MODEL,
            TrainerStage.TRAINING,
            TrainerStage.SUCCEEDED),
        stages);
    TrainerProgress last = Contract.read(stdoutLines().get(3), TrainerProgress.class);
    assertEquals(10L, last.step(), "the final document keeps what the run reported");
    assertEquals(success(), terminationResult());
    assertEquals("", stderr());
  }

  @Test
  void failureReasonOfTheRunnerBecomesTheExitCodeAndTerminationMessage() throws IOException {
    services =
        services.withTraining(
            job -> {
              throw new TrainerFailureException(
                  FailureReason.TRAINING_DIVERGED,
                  "loss became NaN at step 17; lower learningRate");
            });

    assertEquals(5, run("train", "--config", validConfig().toString()));

    TrainerResult r = terminationResult();
    assertEquals(FailureReason.TRAINING_DIVERGED, r.failure());
    assertEquals("loss became NaN at step 17; lower learningRate", r.message());
    assertEquals("error: loss became NaN at step 17; lower learningRate", stderr().strip());
    TrainerProgress last =
        Contract.read(stdoutLines().get(stdoutLines().size() - 1), TrainerProgress.class);
    assertEquals(TrainerStage.FAILED, last.stage());
  }

  @Test
  void failedResultReturnedByTheRunnerUsesItsReason() throws IOException {
    services =
        services.withTraining(
            job -> Failures.result(FailureReason.OUT_OF_MEMORY, "CUDA out of memory at step 3"));

    assertEquals(6, run("train", "--config", validConfig().toString()));
    assertEquals(FailureReason.OUT_OF_MEMORY, terminationResult().failure());
  }

  @Test
  void outOfMemoryErrorExits6WithoutAStackTrace() throws IOException {
    services =
        services.withTraining(
            job -> {
              throw new OutOfMemoryError("Java heap space");
            });

    assertEquals(6, run("train", "--config", validConfig().toString()));

    assertTrue(stderr().startsWith("error: out of memory (Java heap space); lower"), stderr());
    assertFalse(stderr().contains("\tat "), "no stack trace at info level: " + stderr());
    assertEquals(FailureReason.OUT_OF_MEMORY, terminationResult().failure());
  }

  @Test
  void nativeOutOfMemoryIsRecognised() {
    assertEquals(
        FailureReason.OUT_OF_MEMORY,
        Failures.classify(
            new RuntimeException(
                "wrapped", new IllegalStateException("CUDA out of memory. Tried to allocate"))));
    assertEquals(
        FailureReason.INTERNAL_ERROR, Failures.classify(new IllegalStateException("boom")));
  }

  @Test
  void modelProblemsExit4() throws IOException {
    services =
        new TrainerServices(
            services.training(),
            services.datasetValidation(),
            services.generation(),
            services.evaluation(),
            (b, s) -> {
              throw new ModelSourceException(
                  "repo org/private needs a token: set spec.baseModel.secretRef");
            },
            services.kube(),
            services.termination(),
            services.stop(),
            services.out(),
            services.err());

    assertEquals(4, run("train", "--config", validConfig().toString()));
    assertEquals(FailureReason.MODEL_INVALID, terminationResult().failure());
    assertTrue(stderr().contains("needs a token"));
  }

  @Test
  void defaultsRunTheRealImplementations() {
    TrainerServices d = TrainerServices.defaults();

    assertTrue(d.training() instanceof io.kubetune.trainer.job.FineTuningRunner);
    assertTrue(d.datasetValidation() instanceof io.kubetune.trainer.job.DatasetCheck);
    assertTrue(d.generation() instanceof io.kubetune.trainer.job.ModelGeneration);
    assertTrue(d.evaluation() instanceof io.kubetune.trainer.job.AdapterEvaluation);
  }

  @Test
  @Timeout(60) // guards against a hang if the stop never arrives; not a timing assertion
  void sigtermAsksTheRunToCheckpointAndStop() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    AtomicInteger polls = new AtomicInteger();
    services =
        services.withTraining(
            job -> {
              running.countDown();
              while (!job.stop().isStopRequested()) {
                polls.incrementAndGet();
                job.stop().await(10, java.util.concurrent.TimeUnit.MILLISECONDS);
              }
              return new TrainerResult(
                  Contract.SCHEMA_VERSION,
                  false,
                  null,
                  "stopped by " + job.stop().reason() + " after checkpoint at step 3",
                  null,
                  null,
                  null,
                  null,
                  3L);
            });
    GracefulShutdown shutdown = new GracefulShutdown(services.stop(), Duration.ofMinutes(5));
    AtomicInteger code = new AtomicInteger(-1);
    Thread main =
        new Thread(
            () -> {
              code.set(run("train", "--config", validConfig().toString()));
              shutdown.finished(code.get());
            });
    main.start();
    running.await();

    Thread hook = new Thread(shutdown::onShutdown);
    hook.start();
    hook.join(); // returns only once the run has finished
    main.join();

    assertTrue(shutdown.inProgress());
    assertEquals("SIGTERM", services.stop().reason());
    assertEquals(143, code.get());
    TrainerResult r = terminationResult();
    assertFalse(r.succeeded());
    assertNull(r.failure());
    assertEquals("stopped by SIGTERM after checkpoint at step 3", r.message());
    assertEquals("stopped: stopped by SIGTERM after checkpoint at step 3", stderr().strip());
    TrainerProgress last =
        Contract.read(stdoutLines().get(stdoutLines().size() - 1), TrainerProgress.class);
    assertFalse(
        last.stage() == TrainerStage.FAILED || last.stage() == TrainerStage.SUCCEEDED,
        "a stopped run resumes later: it is neither failed nor succeeded");
  }

  @Test
  void sigtermDuringTheModelDownloadExits143AsStopped() throws IOException {
    services =
        new TrainerServices(
            services.training(),
            services.datasetValidation(),
            services.generation(),
            services.evaluation(),
            (b, s) -> {
              services.stop().requestStop("SIGTERM");
              throw new CancellationException("download stopped at model.safetensors");
            },
            services.kube(),
            services.termination(),
            services.stop(),
            services.out(),
            services.err());

    assertEquals(143, run("train", "--config", validConfig().toString()));

    TrainerResult r = terminationResult();
    assertNull(r.failure(), "a stop is not a failure");
    assertEquals("stopped by SIGTERM: download stopped at model.safetensors", r.message());
    assertTrue(stderr().startsWith("stopped: "), stderr());
    TrainerProgress last =
        Contract.read(stdoutLines().get(stdoutLines().size() - 1), TrainerProgress.class);
    assertEquals(TrainerStage.LOADING_MODEL, last.stage());
  }

  @Test
  void shutdownAfterTheJobFinishedDoesNotWait() {
    GracefulShutdown shutdown = new GracefulShutdown(services.stop(), Duration.ofDays(1));
    shutdown.finished(0);
    shutdown.onShutdown(); // would block for a day if it waited
    assertFalse(services.stop().isStopRequested());
  }

  @Test
  void aRunThatFinishesDuringTheGracePeriodExitsWithItsOwnCode() throws Exception {
    // The last step ended and the adapter was exported.
    assertEquals(
        List.of(0),
        haltsWhenTheRunEndsDuringTheGracePeriod(0),
        "a finished run exits 0, not 143, so it is not retrained");
  }

  @Test
  void aStoppedRunLeavesTheSignalsExitCode() throws Exception {
    assertEquals(
        List.of(),
        haltsWhenTheRunEndsDuringTheGracePeriod(143),
        "the JVM exits 143 by itself after a stop");
  }

  /**
   * Runs the shutdown hook as on SIGTERM, lets the run end with {@code exitCode} once the hook has
   * asked it to stop, and returns the exit codes the hook halted the JVM with.
   */
  private List<Integer> haltsWhenTheRunEndsDuringTheGracePeriod(int exitCode)
      throws InterruptedException {
    List<Integer> halted = new java.util.concurrent.CopyOnWriteArrayList<>();
    GracefulShutdown shutdown =
        new GracefulShutdown(services.stop(), Duration.ofMinutes(5), halted::add);
    Thread hook = new Thread(shutdown::onShutdown);
    hook.start();
    while (!services.stop().isStopRequested()) {
      Thread.onSpinWait();
    }
    shutdown.finished(exitCode);
    hook.join();
    return halted;
  }

  @Test
  void validateDatasetReportsAndExits3WhenInvalid() throws IOException {
    DatasetReport bad =
        new DatasetReport(
            false,
            "chat",
            0,
            0,
            0,
            0,
            1,
            List.of(new DatasetError(17, DatasetErrorCode.NO_ASSISTANT_TURN, "no assistant turn")));
    services = services.withDatasetValidation((c, m) -> bad);

    assertEquals(3, run("validate-dataset", "--config", validConfig().toString()));

    assertEquals(List.of(HubClient.Scope.TOKENIZER_ONLY), resolvedScopes, "no weights needed");
    assertEquals(bad, Contract.read(Files.readString(termination), DatasetReport.class));
    assertEquals(bad, Contract.read(stdoutLines().get(0), DatasetReport.class));
    assertTrue(
        stderr().contains("line 17: NO_ASSISTANT_TURN: no assistant turn; end every conversation"),
        stderr());
  }

  @Test
  void validateDatasetExits0WhenValidAndDoesNotNeedOutput() throws IOException {
    DatasetReport ok = new DatasetReport(true, "instruction", 90, 10, 12345, 0, 0, List.of());
    services = services.withDatasetValidation((c, m) -> ok);
    Path cfg = ConfigFixture.valid(dir).remove("output").writeJson("job.json");

    assertEquals(0, run("validate-dataset", "--config", cfg.toString()));
    assertEquals(ok, Contract.read(Files.readString(termination), DatasetReport.class));
  }

  @Test
  void evalChecksTheAdapterFolderAndPrintsMetrics() throws IOException {
    EvalMetrics metrics = new EvalMetrics(1.25, 0.5);
    AtomicReference<Path> adapterSeen = new AtomicReference<>();
    services =
        services.withEvaluation(
            (c, m, a) -> {
              adapterSeen.set(a);
              return metrics;
            });
    Path adapter = Files.createDirectories(dir.resolve("adapter"));

    assertEquals(
        2, run("eval", "--config", validConfig().toString(), "--adapter", adapter.toString()));
    assertTrue(stderr().startsWith("error: --adapter: folder "), stderr());
    assertTrue(stderr().contains("lacks adapter_config.json"), stderr());

    Files.writeString(adapter.resolve("adapter_config.json"), "{}");
    Files.writeString(adapter.resolve("adapter_model.safetensors"), "");
    assertEquals(
        0, run("eval", "--config", validConfig().toString(), "--adapter", adapter.toString()));
    assertEquals(adapter, adapterSeen.get());
    assertEquals(metrics, Contract.read(stdoutLines().get(0), EvalMetrics.class));
    assertEquals(metrics, terminationResult().finalEval());
  }

  @Test
  void generatePassesOptionsAndRejectsBadOnes() {
    AtomicReference<GenerationRequest> seen = new AtomicReference<>();
    services =
        services.withGeneration(
            r -> {
              seen.set(r);
              return " Paris.";
            });

    assertEquals(
        2,
        run(
            "generate",
            "--model",
            modelDir.toString(),
            "--prompt",
            "Capital of France?",
            "--top-p",
            "1.5"));
    assertEquals(
        "error: --top-p: must be in (0, 1], got 1.5; use 1 to disable nucleus sampling",
        stderr().strip());

    assertEquals(
        0,
        run(
            "generate",
            "--model",
            modelDir.toString(),
            "--prompt",
            "Capital of France?",
            "--max-new-tokens",
            "16",
            "--temperature",
            "0.7",
            "--seed",
            "7"));
    assertEquals(
        new GenerationRequest(modelDir, null, "Capital of France?", 16, 0.7, 1.0, 7L, false),
        seen.get());
    assertEquals(List.of(" Paris."), stdoutLines());
    assertFalse(Files.exists(termination), "generate is interactive: no termination message");
  }
}
