package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.AdapterChecks;
import io.kubetune.contract.Contract;
import io.kubetune.contract.ContractException;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.pods.PodSpecs;
import io.kubetune.operator.pods.PodStates;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Adapter checks for namespaces whose artifact store the operator cannot read: a short CPU-only Job
 * in the AdapterDeployment's namespace runs the trainer image's {@code check-adapter} (the same
 * {@link AdapterChecks} the operator runs in-process) on the folder mounted read-only, and leaves
 * its verdict as the container termination message.
 *
 * <p>One Job per adapter version (folder, recorded digest, rank limit, base-model modules), named
 * from a hash of it, owned by the AdapterDeployment. A finished Job stays while that version is in
 * the spec: it is the durable record of the verdict, so an operator restart reads the verdict again
 * instead of unloading the adapter while it re-checks. Verdicts are also cached in memory. A check
 * that errors (pod failure, deadline, no verdict) or a refusal that may heal without a new version
 * (files missing, or a {@code path} source without a recorded digest) is retried with exponential
 * backoff: the Job is deleted and created again after the delay.
 */
final class AdapterCheckJobs {
  /** Value of {@link ServingResources#COMPONENT} on check Jobs and pods. */
  static final String COMPONENT = "adapter-check";

  /** Label on check Jobs and their pods: the Job's name (pods are found by it). */
  static final String CHECK = "kubetune.io/adapter-check";

  /** Selector of every check Job and pod. */
  static final String SELECT_CHECKS =
      ServingResources.MANAGED_BY
          + "="
          + ServingResources.OPERATOR
          + ","
          + ServingResources.COMPONENT
          + "="
          + COMPONENT;

  /** Annotation on a check Job: the adapter folder it checks, relative to the artifact store. */
  static final String FOLDER = "kubetune.io/adapter-folder";

  /** Container name of the check pod. */
  static final String CONTAINER = "check";

  /** Reasons of adapters waiting for, or let down by, a check pod. */
  static final class Reasons {
    static final String PENDING = "AdapterCheckPending";
    static final String FAILED = "AdapterCheckFailed";

    private Reasons() {}
  }

  /** What is checked: one version of an adapter folder under one serving configuration. */
  record Request(String folder, String expectedDigest, int maxRank, Set<String> modules) {
    Request {
      modules = Set.copyOf(new TreeSet<>(modules));
    }

    String key() {
      return folder + "|" + expectedDigest + "|" + maxRank + "|" + new TreeSet<>(modules);
    }
  }

  /** Where an adapter's check stands. */
  sealed interface Outcome permits Verdict, Waiting {}

  /** The check pod's verdict. */
  record Verdict(AdapterCheckResult result, String retryNote) implements Outcome {}

  /**
   * No verdict yet or the check failed.
   *
   * @param failed true when the last attempt failed (the adapter shows Failed until the retry)
   */
  record Waiting(boolean failed, String reason, String message) implements Outcome {}

  private record Attempt(int failures, Instant retryAt, String consumedUid, Outcome last) {}

  private final AdapterDeploymentSettings settings;
  private final Map<String, AdapterCheckResult> verdicts = new ConcurrentHashMap<>();
  private final Map<String, Attempt> attempts = new ConcurrentHashMap<>();

  AdapterCheckJobs(AdapterDeploymentSettings settings) {
    this.settings = settings;
  }

  /** Starts one reconcile of {@code ad}, which observed {@code jobs} and {@code pods}. */
  Round round(AdapterDeployment ad, List<Job> jobs, List<Pod> pods, Instant now) {
    return new Round(ad, jobs, pods, now);
  }

  /** The checks of one reconcile: what each adapter's check says and which Jobs should exist. */
  final class Round {
    private final AdapterDeployment ad;
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final List<Pod> pods;
    private final Instant now;
    private final Map<String, Job> desired = new LinkedHashMap<>();
    private final Set<String> used = new TreeSet<>();
    private Duration nextRetry;

    private Round(AdapterDeployment ad, List<Job> jobs, List<Pod> pods, Instant now) {
      this.ad = ad;
      jobs.forEach(j -> this.jobs.put(j.getMetadata().getName(), j));
      this.pods = pods;
      this.now = now;
    }

    /** The check Jobs that should exist after this reconcile. */
    List<Job> desiredJobs() {
      return List.copyOf(desired.values());
    }

    /** How soon a retry is due, if one is waiting. */
    Optional<Duration> nextRetry() {
      return Optional.ofNullable(nextRetry);
    }

    /** Forgets the state of versions of this AdapterDeployment no longer in its spec. */
    void finish() {
      String prefix = stateKey(ad, "");
      verdicts.keySet().removeIf(k -> k.startsWith(prefix) && !used.contains(k));
      attempts.keySet().removeIf(k -> k.startsWith(prefix) && !used.contains(k));
    }

    /** The outcome of checking {@code request}; requests the check Job when one is needed. */
    Outcome check(Request request) {
      String name = jobName(ad, request);
      String state = stateKey(ad, name);
      used.add(state);
      AdapterCheckResult cached = verdicts.get(state);
      if (cached != null) {
        // Keep the finished Job: it holds the verdict across operator restarts.
        desired.put(name, job(ad, request, name, settings));
        return new Verdict(cached, null);
      }
      Attempt attempt = attempts.get(state);
      if (attempt != null && now.isBefore(attempt.retryAt())) {
        // Backing off: the failed Job is deleted and a new one created when the delay is over.
        Duration wait = Duration.between(now, attempt.retryAt());
        nextRetry = nextRetry == null || wait.compareTo(nextRetry) < 0 ? wait : nextRetry;
        return withRetryNote(attempt.last(), "checked again in " + seconds(wait));
      }
      Job job = jobs.get(name);
      if (job != null
          && attempt != null
          && attempt.consumedUid() != null
          && attempt.consumedUid().equals(job.getMetadata().getUid())) {
        // The failed Job is still there: left out of the desired set, it is deleted, and its
        // deletion triggers the reconcile that creates the next one.
        return new Waiting(
            attempt.last() instanceof Waiting w && w.failed(),
            attempt.last() instanceof Waiting w ? w.reason() : Reasons.PENDING,
            "checking the adapter folder again: replacing Job " + name);
      }
      desired.put(name, job(ad, request, name, settings));
      if (job == null) {
        return new Waiting(
            false,
            Reasons.PENDING,
            "checking the adapter folder in Job "
                + name
                + " (the operator cannot read the artifact store of namespace "
                + ad.getMetadata().getNamespace()
                + " itself)");
      }
      Outcome outcome = observe(job, podsOf(job));
      if (outcome instanceof Waiting w && !w.failed()) {
        return w;
      }
      int failures = attempt == null ? 1 : attempt.failures() + 1;
      if (outcome instanceof Verdict v && isFinal(v.result(), request)) {
        verdicts.put(state, v.result());
        attempts.remove(state);
        return v;
      }
      Duration delay = backoff(failures);
      attempts.put(
          state, new Attempt(failures, now.plus(delay), job.getMetadata().getUid(), outcome));
      nextRetry = nextRetry == null || delay.compareTo(nextRetry) < 0 ? delay : nextRetry;
      // The Job is left out of the desired set from the next reconcile on, which deletes it.
      return withRetryNote(outcome, "checked again in " + seconds(delay));
    }

    private List<Pod> podsOf(Job job) {
      String name = job.getMetadata().getName();
      String uid = job.getMetadata().getUid();
      return pods.stream()
          .filter(p -> p.getMetadata().getLabels() != null)
          .filter(p -> name.equals(p.getMetadata().getLabels().get(CHECK)))
          .filter(p -> ownedBy(p, uid))
          .toList();
    }
  }

  private static boolean ownedBy(Pod pod, String jobUid) {
    List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
    if (owners == null || jobUid == null) {
      return true;
    }
    return owners.stream()
        .filter(o -> "Job".equals(o.getKind()))
        .allMatch(o -> jobUid.equals(o.getUid()));
  }

  /**
   * A verdict stands for the version when nothing but a new version can change it: passed, or
   * refused for a reason in files pinned by a recorded digest.
   */
  private static boolean isFinal(AdapterCheckResult result, Request request) {
    if (result.ok()) {
      return true;
    }
    boolean mayHeal =
        AdapterChecks.Reasons.FOLDER_MISSING.equals(result.reason())
            || AdapterChecks.Reasons.CONFIG_MISSING.equals(result.reason())
            || AdapterChecks.Reasons.WEIGHTS_MISSING.equals(result.reason())
            || AdapterChecks.Reasons.UNREADABLE.equals(result.reason());
    return request.expectedDigest() != null && !mayHeal;
  }

  private Duration backoff(int failures) {
    Duration delay = settings.checks().retry();
    for (int i = 1; i < failures && delay.compareTo(settings.checks().maxRetry()) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(settings.checks().maxRetry()) > 0 ? settings.checks().maxRetry() : delay;
  }

  private static Outcome withRetryNote(Outcome outcome, String note) {
    if (outcome instanceof Verdict v) {
      return new Verdict(v.result(), note);
    }
    Waiting w = (Waiting) outcome;
    return new Waiting(w.failed(), w.reason(), w.message() + "; " + note);
  }

  private static String seconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000) + "s";
  }

  private static String stateKey(AdapterDeployment ad, String jobName) {
    return ad.getMetadata().getNamespace() + "/" + ad.getMetadata().getName() + "/" + jobName;
  }

  /** The check Job's name: the AdapterDeployment's name and a hash of the version checked. */
  static String jobName(AdapterDeployment ad, Request request) {
    String base = ad.getMetadata().getName();
    // Job names become pod label values: 63 characters at most.
    if (base.length() > 40) {
      base = base.substring(0, 40);
    }
    while (base.endsWith("-") || base.endsWith(".")) {
      base = base.substring(0, base.length() - 1);
    }
    return base + "-check-" + sha256(request.key()).substring(0, 10);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** Labels of a check Job and its pod. */
  static Map<String, String> labels(AdapterDeployment ad, String jobName) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(ServingResources.MANAGED_BY, ServingResources.OPERATOR);
    labels.put(ServingResources.ADAPTER_DEPLOYMENT, ad.getMetadata().getName());
    labels.put(ServingResources.COMPONENT, COMPONENT);
    labels.put(CHECK, jobName);
    return labels;
  }

  /**
   * The check Job: the trainer image's {@code check-adapter} on the folder, the artifact store
   * mounted read-only, no API token, restricted security context, small fixed resources, a
   * deadline, one attempt (the operator retries with backoff).
   */
  static Job job(
      AdapterDeployment ad, Request request, String name, AdapterDeploymentSettings settings) {
    AdapterDeploymentSettings.Checks c = settings.checks();
    String dir = ServingResources.ARTIFACTS_DIR + "/" + request.folder();
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "check-adapter",
            "--dir",
            dir,
            "--max-rank",
            Integer.toString(request.maxRank()),
            "--target-modules",
            String.join(",", new TreeSet<>(request.modules()))));
    if (request.expectedDigest() != null) {
      args.addAll(List.of("--expect-digest", request.expectedDigest()));
    }
    Map<String, Quantity> resources = new LinkedHashMap<>();
    resources.put("cpu", c.cpu());
    resources.put("memory", c.memory());
    Map<String, String> labels = labels(ad, name);
    return new JobBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ad.getMetadata().getNamespace())
        .withLabels(labels)
        .addToAnnotations(FOLDER, request.folder())
        .endMetadata()
        .withNewSpec()
        // The operator retries with backoff; the Job itself runs the check once.
        .withBackoffLimit(0)
        .withActiveDeadlineSeconds(c.deadline().toSeconds())
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        // The check reads files only: no API access, no service links.
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withSecurityContext(PodSpecs.restrictedPodSecurity(c.runAsUser()))
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(c.image())
        .withImagePullPolicy(c.imagePullPolicy())
        .withArgs(args)
        .withEnv(
            new EnvVar("DJL_OFFLINE", "true", null),
            new EnvVar("OPT_OUT_TRACKING", "true", null),
            new EnvVar("HOME", "/tmp", null))
        .withNewResources()
        .withRequests(resources)
        .withLimits(resources)
        .endResources()
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withSecurityContext(PodSpecs.restrictedContainerSecurity())
        .addNewVolumeMount()
        .withName("artifacts")
        .withMountPath(ServingResources.ARTIFACTS_DIR)
        .withReadOnly(true)
        .endVolumeMount()
        .addNewVolumeMount()
        .withName("tmp")
        .withMountPath("/tmp")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("artifacts")
        .withNewPersistentVolumeClaim()
        .withClaimName(settings.artifactClaimName())
        .withReadOnly(true)
        .endPersistentVolumeClaim()
        .endVolume()
        .addNewVolume()
        .withName("tmp")
        .withNewEmptyDir()
        .withSizeLimit(new Quantity("64Mi"))
        .endEmptyDir()
        .endVolume()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /** What a check Job and its pods say. */
  static Outcome observe(Job job, List<Pod> pods) {
    Optional<ContainerStateTerminated> term =
        pods.stream()
            .sorted(
                Comparator.comparing(
                        (Pod p) ->
                            p.getMetadata().getCreationTimestamp() == null
                                ? ""
                                : p.getMetadata().getCreationTimestamp())
                    .reversed())
            .map(AdapterCheckJobs::terminated)
            .flatMap(Optional::stream)
            .findFirst();
    String raw = term.map(ContainerStateTerminated::getMessage).orElse(null);
    if (raw != null && raw.trim().startsWith("{")) {
      try {
        return new Verdict(Contract.read(raw, AdapterCheckResult.class), null);
      } catch (ContractException e) {
        // Not a verdict (the log tail of a crash): judged below from the Job's state.
      }
    }
    Optional<JobCondition> failed = condition(job, "Failed");
    if (failed.isPresent() || condition(job, "Complete").isPresent()) {
      String why =
          failed.map(f -> f.getReason() == null ? "Failed" : f.getReason()).orElse("Complete");
      if (term.map(t -> "OOMKilled".equals(t.getReason())).orElse(false)) {
        why = "OOMKilled; raise the operator's " + AdapterDeploymentSettings.ENV_CHECK_MEMORY;
      } else if ("DeadlineExceeded".equals(why)) {
        why =
            "DeadlineExceeded: it did not finish within "
                + job.getSpec().getActiveDeadlineSeconds()
                + "s; check that the pod can be scheduled and the artifact store PVC bound";
      }
      String detail = raw == null || raw.isBlank() ? "" : ": " + truncate(raw.trim());
      return new Waiting(
          true,
          Reasons.FAILED,
          "the adapter check pod of Job "
              + job.getMetadata().getName()
              + " ended without a verdict ("
              + why
              + ")"
              + detail);
    }
    for (Pod pod : pods) {
      Optional<String> pending = pendingReason(pod);
      if (pending.isPresent()) {
        return new Waiting(
            false,
            Reasons.PENDING,
            "adapter check pod " + pod.getMetadata().getName() + ": " + pending.get());
      }
    }
    return new Waiting(
        false,
        Reasons.PENDING,
        "checking the adapter folder in Job " + job.getMetadata().getName());
  }

  private static Optional<JobCondition> condition(Job job, String type) {
    return PodStates.condition(job, type);
  }

  private static Optional<ContainerStateTerminated> terminated(Pod pod) {
    return container(pod).map(s -> s.getState() == null ? null : s.getState().getTerminated());
  }

  private static Optional<ContainerStatus> container(Pod pod) {
    return PodStates.container(pod, CONTAINER);
  }

  /** Why a check pod is stuck before running, as kubectl describe would say. */
  private static Optional<String> pendingReason(Pod pod) {
    Optional<String> unschedulable =
        PodStates.unschedulable(pod)
            .map(
                c ->
                    "Unschedulable: "
                        + (c.getMessage() == null ? "" : c.getMessage())
                        + "; the pod needs "
                        + "the namespace's artifact store PVC and a node with free CPU and memory");
    if (unschedulable.isPresent()) {
      return unschedulable;
    }
    return container(pod)
        .filter(s -> s.getState() != null && s.getState().getWaiting() != null)
        .map(s -> s.getState().getWaiting())
        .filter(w -> w.getReason() != null && !"ContainerCreating".equals(w.getReason()))
        .map(
            w ->
                w.getReason()
                    + (w.getMessage() == null ? "" : ": " + w.getMessage())
                    + (w.getReason().contains("Image")
                        ? "; check the operator's trainer image ("
                            + AdapterDeploymentSettings.ENV_CHECK_IMAGE
                            + ") and pull secrets"
                        : ""));
  }

  private static String truncate(String text) {
    return text.length() <= 300 ? text : text.substring(0, 300) + "...";
  }
}
