package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.Contract;
import io.kubetune.operator.adapter.AdapterCheckJobs.Request;
import io.kubetune.operator.adapter.AdapterCheckJobs.Verdict;
import io.kubetune.operator.adapter.AdapterCheckJobs.Waiting;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.testing.Jobs;
import io.kubetune.operator.testing.Pods;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Names of check Jobs, and what a check Job and its pod say, without a cluster. */
class AdapterCheckJobsTest {
  private static final Set<String> MODULES = Set.of("q_proj", "v_proj");
  private final AdapterDeploymentSettings settings = AdapterDeploymentSettings.defaults();

  private static AdapterDeployment ad(String name) {
    return AdapterDeployments.of("ns", name).build();
  }

  @Test
  void oneJobNamePerAdapterVersionWithinTheLabelLimit() {
    AdapterDeployment ad = ad("x".repeat(60));
    Request v1 = new Request("adapters/a", "sha256:" + "1".repeat(64), 64, MODULES);
    String name = AdapterCheckJobs.jobName(ad, v1);
    assertTrue(name.length() <= 63, name);
    assertEquals(
        name,
        AdapterCheckJobs.jobName(
            ad,
            new Request("adapters/a", "sha256:" + "1".repeat(64), 64, Set.of("v_proj", "q_proj"))));
    assertNotEquals(
        name,
        AdapterCheckJobs.jobName(
            ad, new Request("adapters/a", "sha256:" + "2".repeat(64), 64, MODULES)),
        "new digest, new check");
    assertNotEquals(
        name,
        AdapterCheckJobs.jobName(
            ad, new Request("adapters/a", "sha256:" + "1".repeat(64), 16, MODULES)),
        "new rank limit, new check");
  }

  @Test
  void aTerminatedPodsVerdictIsReadEvenWhenTheJobFailed() {
    AdapterDeployment ad = ad("ad");
    Request r = new Request("adapters/a", null, 8, MODULES);
    Job job = AdapterCheckJobs.job(ad, r, AdapterCheckJobs.jobName(ad, r), settings);
    AdapterCheckResult refused = AdapterCheckResult.refuse("RankTooHigh", "r=16 > 8");
    job.setStatus(failed("BackoffLimitExceeded"));
    Verdict v =
        assertInstanceOf(
            Verdict.class,
            AdapterCheckJobs.observe(
                job, List.of(pod(job, 7, "Error", Contract.writeBounded(refused)))));
    assertEquals(refused, v.result());
  }

  @Test
  void aPodThatDiesWithoutAVerdictSaysWhyAndWhatToRaise() {
    AdapterDeployment ad = ad("ad");
    Request r = new Request("adapters/a", null, 8, MODULES);
    Job job = AdapterCheckJobs.job(ad, r, AdapterCheckJobs.jobName(ad, r), settings);
    job.setStatus(failed("BackoffLimitExceeded"));
    Waiting w =
        assertInstanceOf(
            Waiting.class, AdapterCheckJobs.observe(job, List.of(pod(job, 137, "OOMKilled", ""))));
    assertTrue(w.failed());
    assertEquals("AdapterCheckFailed", w.reason());
    assertTrue(w.message().contains("KUBETUNE_ADAPTER_CHECK_MEMORY"), w.message());

    job.setStatus(failed("DeadlineExceeded"));
    w = assertInstanceOf(Waiting.class, AdapterCheckJobs.observe(job, List.of()));
    assertTrue(w.message().contains("did not finish within 300s"), w.message());
  }

  @Test
  void failedChecksAreRetriedWithDoublingDelays() {
    AdapterDeploymentSettings s =
        settings.withChecks(
            settings.checks().withRetry(Duration.ofSeconds(10), Duration.ofSeconds(30)));
    AdapterCheckJobs checks = new AdapterCheckJobs(s);
    AdapterDeployment ad = ad("ad");
    ad.getMetadata().setNamespace("ns");
    Request r = new Request("adapters/a", null, 8, MODULES);
    String name = AdapterCheckJobs.jobName(ad, r);
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    List<String> notes = new java.util.ArrayList<>();
    for (int attempt = 0; attempt < 4; attempt++) {
      Job job = AdapterCheckJobs.job(ad, r, name, s);
      job.getMetadata().setUid("uid-" + attempt);
      job.setStatus(failed("DeadlineExceeded"));
      AdapterCheckJobs.Round round = checks.round(ad, List.of(job), List.of(), t);
      Waiting w = assertInstanceOf(Waiting.class, round.check(r));
      notes.add(w.message().substring(w.message().lastIndexOf("checked again in")));
      // During the delay the Job is not wanted (so it is deleted); after it, a new one is.
      AdapterCheckJobs.Round waiting = checks.round(ad, List.of(job), List.of(), t.plusSeconds(1));
      assertTrue(waiting.check(r) instanceof Waiting);
      assertTrue(waiting.desiredJobs().isEmpty());
      t = t.plus(round.nextRetry().orElseThrow());
    }
    assertEquals(
        List.of(
            "checked again in 10s",
            "checked again in 20s",
            "checked again in 30s",
            "checked again in 30s"),
        notes);
  }

  private static io.fabric8.kubernetes.api.model.batch.v1.JobStatus failed(String reason) {
    return Jobs.withCondition("Failed", reason);
  }

  private static Pod pod(Job job, int exitCode, String reason, String message) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(job.getMetadata().getName() + "-x")
        .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
        .endMetadata()
        .withNewStatus()
        .withContainerStatuses(
            Pods.terminated(exitCode, reason, message).withName(AdapterCheckJobs.CONTAINER).build())
        .endStatus()
        .build();
  }
}
