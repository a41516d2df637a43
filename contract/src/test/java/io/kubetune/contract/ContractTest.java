package io.kubetune.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContractTest {

  @Test
  void progressRoundTripsAndOmitsUnknownFields() {
    TrainerProgress progress =
        new TrainerProgress(
            Contract.SCHEMA_VERSION,
            TrainerStage.TRAINING,
            12L,
            100L,
            0.5,
            4096L,
            812.5,
            1.25,
            1e-4,
            new EvalMetrics(1.5, 0.42),
            new EvalMetrics(2.5, 0.21),
            Map.of("learningRate", 2e-4),
            null,
            List.of(new CheckpointInfo(10, "/artifacts/checkpoints/j/step-10", 1.6)),
            "2026-11-22T10:00:00Z");
    String json = Contract.write(progress);
    assertTrue(!json.contains("\"dataset\""), "null fields are omitted: " + json);
    assertEquals(progress, Contract.read(json, TrainerProgress.class));
  }

  @Test
  void newerWritersAreReadByOlderReaders() {
    TrainerProgress p =
        Contract.read(
            "{\"schemaVersion\":2,\"stage\":\"TRAINING\",\"step\":3,\"futureField\":1}",
            TrainerProgress.class);
    assertEquals(3L, p.step());
  }

  @Test
  void garbageIsAContractExceptionNamingTheType() {
    ContractException e =
        assertThrows(
            ContractException.class, () -> Contract.read("{not json", TrainerResult.class));
    assertTrue(e.getMessage().contains("TrainerResult"), e.getMessage());
    assertThrows(ContractException.class, () -> Contract.read("", TrainerProgress.class));
  }

  @Test
  void strictConfigReadingNamesTheUnknownField() {
    ContractException e =
        assertThrows(
            ContractException.class,
            () -> Contract.readStrict("{\"jobName\":\"a\",\"epocs\":3}", TrainerConfig.class));
    assertTrue(e.getMessage().contains("epocs"), e.getMessage());
  }

  @Test
  void datasetReportIsCutToFitATerminationMessageKeepingCounts() {
    List<DatasetError> errors = new ArrayList<>();
    for (int i = 1; i <= 500; i++) {
      errors.add(new DatasetError(i, DatasetErrorCode.MALFORMED_JSON, "x".repeat(100)));
    }
    DatasetReport big = new DatasetReport(false, "chat", 0, 0, 0, 0, 500, errors);
    String text = Contract.writeBounded(big);
    assertTrue(text.getBytes(StandardCharsets.UTF_8).length <= 4096);
    DatasetReport back = Contract.read(text, DatasetReport.class);
    assertEquals(500, back.errorCount());
    assertTrue(back.errors().size() > 10 && back.errors().size() < 500);
    assertEquals(1, back.errors().get(0).line());
  }

  @Test
  void longFailureMessagesAreShortenedNotDropped() {
    TrainerResult r =
        new TrainerResult(
            1, false, FailureReason.MODEL_INVALID, "y".repeat(10_000), null, null, null, null, 0L);
    String text = Contract.writeBounded(r);
    assertTrue(text.getBytes(StandardCharsets.UTF_8).length <= 4096);
    assertEquals(FailureReason.MODEL_INVALID, Contract.read(text, TrainerResult.class).failure());
  }

  @Test
  void aFullModelResultKeepsItsKindAndFootprint() {
    TrainerResult r =
        new TrainerResult(
            1,
            true,
            null,
            "trained",
            new AdapterInfo("/artifacts/adapters/j", "sha256:x", null, "hf://a/b", "model"),
            null,
            null,
            1.5,
            10L,
            new MethodFootprint("full", 1000L, 1000L, 8000L, 4000L));
    TrainerResult back = Contract.read(Contract.writeBounded(r), TrainerResult.class);
    assertEquals(AdapterInfo.KIND_MODEL, back.adapter().kind());
    assertTrue(AdapterInfo.isModelKind(back.adapter().kind()));
    assertEquals(8000L, back.footprint().optimizerStateBytes());
    // A result of an older trainer has no kind: it is an adapter.
    TrainerResult old =
        Contract.read(
            "{\"schemaVersion\":1,\"succeeded\":true,\"adapter\":{\"path\":\"p\"}}",
            TrainerResult.class);
    assertFalse(AdapterInfo.isModelKind(old.adapter().kind()));
    assertEquals(AdapterInfo.KIND_ADAPTER, new AdapterInfo("p", "d", 8, "b").kind());
  }

  @Test
  void exitCodesMapBackToReasons() {
    for (FailureReason r : FailureReason.values()) {
      assertEquals(r, FailureReason.fromExitCode(r.exitCode()));
    }
    assertEquals(FailureReason.INTERNAL_ERROR, FailureReason.fromExitCode(137));
  }

  @Test
  void adapterVerdictRoundTripsAndStaysWithinTheTerminationMessageLimit() {
    AdapterCheckResult verdict =
        new AdapterCheckResult(
            false,
            AdapterChecks.Reasons.RANK_TOO_HIGH,
            "adapter rank r=64 exceeds the server's maxLoraRank=16; " + "x".repeat(6000),
            "sha256:" + "a".repeat(64),
            64,
            java.util.Collections.nCopies(400, "q_proj"));
    String text = Contract.writeBounded(verdict);
    assertTrue(
        text.getBytes(StandardCharsets.UTF_8).length <= Contract.MAX_TERMINATION_MESSAGE_BYTES);
    AdapterCheckResult read = Contract.read(text, AdapterCheckResult.class);
    assertEquals(false, read.ok());
    assertEquals(AdapterChecks.Reasons.RANK_TOO_HIGH, read.reason());
    assertEquals(verdict.digest(), read.digest());
    assertEquals(64, read.rank());
    assertTrue(read.message().startsWith("adapter rank r=64 exceeds"), read.message());

    AdapterCheckResult small =
        new AdapterCheckResult(true, null, "adapter checks passed", null, 8, List.of("q_proj"));
    assertEquals(small, Contract.read(Contract.writeBounded(small), AdapterCheckResult.class));
  }
}
