package io.kubetune.trainer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerProgress;
import io.kubetune.contract.TrainerStage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ProgressReporterTest {
  private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.sa-token-secret";
  private static final long SECOND = 1_000_000_000L;

  @TempDir Path sa;
  private FakeApiServer api;
  private final AtomicLong now = new AtomicLong(1_000 * SECOND);
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();

  @BeforeEach
  void start() throws IOException {
    api = new FakeApiServer();
    Files.writeString(sa.resolve("token"), TOKEN + "\n");
    Files.writeString(sa.resolve("namespace"), "team-a");
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private KubernetesEnvironment cluster() {
    return new KubernetesEnvironment(
        Map.of("KUBERNETES_SERVICE_HOST", api.host(), "KUBERNETES_SERVICE_PORT", api.port()),
        sa,
        "http");
  }

  private static TrainerConfig config(String namespace, Integer interval) {
    return new TrainerConfig(
        "llama-chat",
        namespace,
        null,
        null,
        null,
        null,
        null,
        null,
        interval == null ? null : new TrainerConfig.Progress(null, interval));
  }

  private ProgressReporter reporter(TrainerConfig config) {
    ProgressSink sink = ProgressReporter.clusterSink(config, cluster()).orElseThrow();
    return new ProgressReporter(
        new PrintStream(stdout, true, StandardCharsets.UTF_8),
        sink,
        ProgressReporter.interval(config),
        now::get,
        Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC),
        null);
  }

  static TrainerProgress progress(TrainerStage stage, long step) {
    return new TrainerProgress(
        Contract.SCHEMA_VERSION,
        stage,
        step,
        100L,
        step / 100.0,
        step * 512,
        1000.0,
        2.5 - step / 100.0,
        2e-4,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  private List<Long> publishedSteps() {
    return api.requests().stream().map(r -> sentProgress(r).step()).toList();
  }

  private static TrainerProgress sentProgress(FakeApiServer.Request r) {
    JsonNode patch;
    try {
      patch = Contract.json().readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return Contract.read(
        patch.get("data").get(Contract.PROGRESS_KEY).asText(), TrainerProgress.class);
  }

  private List<String> stdoutLines() {
    return stdout.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void patchesTheProgressConfigMapWithAMergePatch() {
    try (ProgressReporter reporter = reporter(config(null, null))) {
      reporter.report(progress(TrainerStage.STARTING, 0));
    }

    assertEquals(1, api.requests().size());
    FakeApiServer.Request r = api.requests().get(0);
    assertEquals("PATCH", r.method());
    assertEquals("/api/v1/namespaces/team-a/configmaps/llama-chat-progress", r.path());
    assertEquals("application/merge-patch+json", r.contentType());
    assertEquals("Bearer " + TOKEN, r.authorization());
    TrainerProgress sent = sentProgress(r);
    assertEquals(TrainerStage.STARTING, sent.stage());
    assertEquals("2026-11-22T10:00:00Z", sent.updatedAt(), "updatedAt is stamped when missing");
    assertEquals(List.of(Contract.write(sent)), stdoutLines());
  }

  @Test
  void namespaceFromTheConfigWinsOverTheServiceAccount() {
    try (ProgressReporter reporter = reporter(config("other-ns", null))) {
      reporter.report(progress(TrainerStage.STARTING, 0));
    }
    assertEquals(
        "/api/v1/namespaces/other-ns/configmaps/llama-chat-progress", api.requests().get(0).path());
  }

  @Test
  void throttlingCoalescesAndStageChangesAndTheFinalStateAlwaysGoOut() {
    ProgressReporter reporter = reporter(config(null, 5));

    reporter.report(progress(TrainerStage.TRAINING, 1)); // first: sent
    now.addAndGet(SECOND);
    reporter.report(progress(TrainerStage.TRAINING, 2)); // held back
    now.addAndGet(SECOND);
    reporter.report(progress(TrainerStage.TRAINING, 3)); // replaces step 2
    assertEquals(List.of(1L), publishedSteps());

    now.addAndGet(3 * SECOND);
    reporter.flushIfDue(); // interval over: newest pending goes, step 2 never does
    assertEquals(List.of(1L, 3L), publishedSteps());

    now.addAndGet(SECOND);
    reporter.report(progress(TrainerStage.TRAINING, 4)); // held back
    reporter.report(progress(TrainerStage.EVALUATING, 4)); // stage change: sent at once
    assertEquals(List.of(1L, 3L, 4L), publishedSteps());
    assertEquals(TrainerStage.EVALUATING, sentProgress(api.requests().get(2)).stage());

    reporter.report(progress(TrainerStage.EVALUATING, 5)); // held back
    reporter.report(progress(TrainerStage.SUCCEEDED, 6)); // final: sent at once
    assertEquals(List.of(1L, 3L, 4L, 6L), publishedSteps());

    reporter.close();
    assertEquals(4, api.requests().size(), "nothing pending after the final state");
    assertEquals(7, stdoutLines().size(), "every update is one stdout line");
  }

  @Test
  void closeFlushesThePendingUpdate() {
    ProgressReporter reporter = reporter(config(null, 60));
    reporter.report(progress(TrainerStage.TRAINING, 10));
    reporter.report(progress(TrainerStage.TRAINING, 11));
    assertEquals(List.of(10L), publishedSteps());

    reporter.close();

    assertEquals(List.of(10L, 11L), publishedSteps());
  }

  @Test
  void tokenIsReadForEveryRequestBecauseItRotates() throws IOException {
    ProgressReporter reporter = reporter(config(null, 0));
    reporter.report(progress(TrainerStage.TRAINING, 1));
    Files.writeString(sa.resolve("token"), "rotated-token");
    reporter.report(progress(TrainerStage.TRAINING, 2));
    reporter.close();

    assertEquals("Bearer " + TOKEN, api.requests().get(0).authorization());
    assertEquals("Bearer rotated-token", api.requests().get(1).authorization());
  }

  @Test
  void forbiddenDoesNotStopTrainingAndNeverLogsTheToken() {
    api.status = 403;
    String log;
    try (LogCapture capture = new LogCapture()) {
      ProgressReporter reporter = reporter(config(null, 0));
      reporter.report(progress(TrainerStage.TRAINING, 1));
      reporter.report(progress(TrainerStage.TRAINING, 2));
      api.status = 200;
      reporter.report(progress(TrainerStage.TRAINING, 3));
      reporter.close();
      log = capture.text();
    }

    assertEquals(3, api.requests().size(), "every update is still attempted");
    assertEquals(3, stdoutLines().size());
    assertTrue(log.contains("HTTP 403"), log);
    assertTrue(log.contains("cannot patch resource"), "the API server's reason is shown: " + log);
    assertTrue(log.contains("work again"), log);
    assertFalse(log.contains(TOKEN), "the token leaked into the log");
  }

  @Test
  void unreachableApiServerIsNotFatal() {
    api.close();
    try (LogCapture capture = new LogCapture()) {
      ProgressReporter reporter = reporter(config(null, 0));
      reporter.report(progress(TrainerStage.TRAINING, 1));
      reporter.close();
      assertTrue(capture.text().contains("training continues"), capture.text());
      assertFalse(capture.text().contains(TOKEN));
    }
    assertEquals(1, stdoutLines().size());
  }

  @Test
  void outsideAClusterProgressGoesToStdoutOnly() throws IOException {
    KubernetesEnvironment local = new KubernetesEnvironment(Map.of(), sa, "http");
    ProgressReporter reporter =
        ProgressReporter.forConfig(
            config(null, null), local, new PrintStream(stdout, true, StandardCharsets.UTF_8));
    reporter.report(progress(TrainerStage.STARTING, 0));
    reporter.close();

    assertEquals(1, stdoutLines().size());
    assertEquals(List.of(), api.requests());
    // Without the token file the pod has no identity: not treated as in-cluster either.
    Files.delete(sa.resolve("token"));
    assertFalse(cluster().inCluster());
  }

  @Test
  @Timeout(60) // a guard against hanging if the timer never fires, not a timing assertion
  void timerPublishesAHeldBackUpdateWithoutAnotherReport() throws Exception {
    // Real clock and scheduler: the held-back update must arrive on its own after the interval.
    ProgressReporter reporter =
        ProgressReporter.forConfig(
            config(null, 1), cluster(), new PrintStream(stdout, true, StandardCharsets.UTF_8));
    reporter.report(progress(TrainerStage.TRAINING, 1));
    reporter.report(progress(TrainerStage.TRAINING, 2));
    while (api.requests().size() < 2) {
      Thread.sleep(20);
    }
    assertEquals(List.of(1L, 2L), publishedSteps());
    reporter.close();
    assertEquals(2, api.requests().size());
  }

  @Test
  @Timeout(60) // report() blocking on the hanging server would hang here; not a timing assertion
  void aHangingApiServerDoesNotBlockTrainingAndTheFinalStateStillGoesOut() {
    api.gate = new CountDownLatch(1);
    ProgressReporter reporter =
        ProgressReporter.forConfig(
            config(null, 0), cluster(), new PrintStream(stdout, true, StandardCharsets.UTF_8));

    reporter.report(progress(TrainerStage.TRAINING, 1));
    reporter.report(progress(TrainerStage.TRAINING, 2));
    reporter.report(progress(TrainerStage.TRAINING, 3));
    reporter.report(progress(TrainerStage.SUCCEEDED, 4));
    assertEquals(4, stdoutLines().size(), "the training thread got through every report");

    api.gate.countDown();
    reporter.close();

    List<Long> sent = publishedSteps();
    assertTrue(sent.size() <= 2, "updates queued behind the hanging request coalesce: " + sent);
    assertEquals(4L, sent.get(sent.size() - 1), "the final state is sent before close returns");
  }

  @Test
  void defaultIntervalIsTheContractDefault() {
    assertEquals(
        Duration.ofSeconds(Contract.DEFAULT_PROGRESS_INTERVAL_SECONDS),
        ProgressReporter.interval(config(null, null)));
  }
}
