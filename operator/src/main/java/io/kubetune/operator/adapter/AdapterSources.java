package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.AdapterChecks;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.LoraServingSpec;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.modelserver.AdapterSynchronizer.DesiredAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Turns {@code spec.adapters} into what the synchronizer should load: each enabled entry's source
 * resolved (a FineTuneJob must have succeeded; a path must be on the artifact store), its folder
 * checked with {@link AdapterChecks}, and its container path under {@code /artifacts}. An entry
 * that cannot be loaded yet, or ever, is returned as {@link Blocked} with the reason.
 *
 * <p>Where the operator pod mounts the namespace's artifact store, the folder is checked in-process
 * and the result cached by the folder's file names, sizes and modification times, so a reconcile
 * hashes an adapter's files only when they changed. Elsewhere (the default install) a check Job in
 * the namespace runs the same checks ({@link AdapterCheckJobs}).
 */
final class AdapterSources {

  /** Reasons of adapters refused or waiting before they reach a pod. */
  static final class Reasons {
    static final String JOB_NOT_FOUND = "FineTuneJobNotFound";
    static final String WAITING_FOR_JOB = "WaitingForFineTuneJob";
    static final String JOB_FAILED = "FineTuneJobFailed";
    static final String JOB_HAS_NO_ADAPTER = "FineTuneJobHasNoAdapter";
    static final String JOB_MADE_A_MODEL = "FineTuneJobMadeAFullModel";
    static final String NOT_ON_ARTIFACT_STORE = "AdapterNotOnArtifactStore";
    static final String SPEC_INVALID = "SpecInvalid";

    private Reasons() {}
  }

  /** An enabled adapter entry after resolution. */
  sealed interface Resolved permits Ready, Blocked {
    /** Logical adapter name. */
    String name();

    /** Whether the entry asks for pinning. */
    boolean pin();
  }

  /** Ready to be handed to the synchronizer. */
  record Ready(DesiredAdapter desired) implements Resolved {
    @Override
    public String name() {
      return desired.name();
    }

    @Override
    public boolean pin() {
      return desired.pin();
    }
  }

  /**
   * Not loadable now.
   *
   * @param failed true when the user must act (Failed), false when it is waiting (Pending)
   */
  record Blocked(String name, boolean pin, boolean failed, String reason, String message)
      implements Resolved {}

  private record CacheKey(String folder, String expectedDigest, int maxRank, String files) {}

  private final AdapterDeploymentSettings settings;
  private final Map<CacheKey, AdapterCheckResult> checked = new ConcurrentHashMap<>();
  private final AdapterCheckJobs checkJobs;
  // Per adapter of an AdapterDeployment, the last version a check Job passed.
  private final Map<String, Ready> lastPassed = new ConcurrentHashMap<>();

  AdapterSources(AdapterDeploymentSettings settings) {
    this.settings = settings;
    this.checkJobs = new AdapterCheckJobs(settings);
  }

  /** The check Jobs of one reconcile of {@code ad}, which observed those Jobs and their pods. */
  AdapterCheckJobs.Round checkRound(
      AdapterDeployment ad, List<Job> jobs, List<Pod> pods, Instant now) {
    return checkJobs.round(ad, jobs, pods, now);
  }

  /**
   * Resolves the enabled, valid entries of {@code ad} in spec order (duplicates after the first and
   * entries with spec problems are returned as Failed).
   *
   * @param jobs FineTuneJob by name in the AdapterDeployment's namespace, null when absent
   * @param invalidEntries {@code spec.adapters[i]} prefixes that have spec problems
   * @param checks the check Jobs of this reconcile, for folders the operator cannot read itself
   */
  List<Resolved> resolve(
      AdapterDeployment ad,
      Function<String, FineTuneJob> jobs,
      Set<String> invalidEntries,
      AdapterCheckJobs.Round checks) {
    List<Resolved> out = new ArrayList<>();
    List<AdapterEntry> entries =
        ad.getSpec() == null || ad.getSpec().adapters == null ? List.of() : ad.getSpec().adapters;
    LoraServingSpec lora = ad.getSpec().lora == null ? new LoraServingSpec() : ad.getSpec().lora;
    int maxRank = lora.maxLoraRank == null ? 64 : lora.maxLoraRank;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < entries.size(); i++) {
      AdapterEntry e = entries.get(i);
      if (e == null || e.name == null || !seen.add(e.name)) {
        continue;
      }
      boolean pin = Boolean.TRUE.equals(e.pin);
      if (Boolean.FALSE.equals(e.enabled)) {
        continue;
      }
      String field = "spec.adapters[" + i + "]";
      if (invalidEntries.contains(field)) {
        out.add(
            new Blocked(
                e.name,
                pin,
                true,
                Reasons.SPEC_INVALID,
                field + " is invalid; see the Stalled condition for the fix"));
        continue;
      }
      out.add(resolveOne(ad, e, field, pin, maxRank, jobs, checks));
    }
    String prefix = servedKey(ad, "");
    lastPassed
        .keySet()
        .removeIf(k -> k.startsWith(prefix) && !seen.contains(k.substring(prefix.length())));
    return out;
  }

  private static String servedKey(AdapterDeployment ad, String adapter) {
    return ad.getMetadata().getNamespace() + "/" + ad.getMetadata().getName() + "/" + adapter;
  }

  private Resolved resolveOne(
      AdapterDeployment ad,
      AdapterEntry e,
      String field,
      boolean pin,
      int maxRank,
      Function<String, FineTuneJob> jobs,
      AdapterCheckJobs.Round checks) {
    String uri;
    String expectedDigest = null;
    if (e.source.fineTuneJobRef != null) {
      String jobName = e.source.fineTuneJobRef.name;
      FineTuneJob job = jobs.apply(jobName);
      if (job == null) {
        return new Blocked(
            e.name,
            pin,
            true,
            Reasons.JOB_NOT_FOUND,
            field
                + ".source.fineTuneJobRef: FineTuneJob '"
                + jobName
                + "' does not exist in namespace "
                + ad.getMetadata().getNamespace()
                + "; create it or fix the name");
      }
      FineTuneJobStatus status = job.getStatus();
      FineTuneJobStatus.Phase phase = status == null ? null : status.phase;
      if (phase == FineTuneJobStatus.Phase.Failed) {
        return new Blocked(
            e.name,
            pin,
            true,
            Reasons.JOB_FAILED,
            "FineTuneJob '"
                + jobName
                + "' failed; fix and re-run it, or point "
                + field
                + ".source at another adapter");
      }
      if (phase != FineTuneJobStatus.Phase.Succeeded) {
        return new Blocked(
            e.name,
            pin,
            false,
            Reasons.WAITING_FOR_JOB,
            "FineTuneJob '"
                + jobName
                + "' is "
                + (phase == null ? "not started" : phase)
                + "; the adapter is loaded once it has succeeded");
      }
      if (status.adapter == null
          || status.adapter.path == null
          || !AdapterDigest.isWellFormed(status.adapter.digest)) {
        return new Blocked(
            e.name,
            pin,
            true,
            Reasons.JOB_HAS_NO_ADAPTER,
            "FineTuneJob '"
                + jobName
                + "' succeeded but reports no adapter path and digest in status.adapter; check"
                + " the trainer's result");
      }
      if (AdapterInfo.isModelKind(status.adapter.kind)) {
        return new Blocked(
            e.name,
            pin,
            true,
            Reasons.JOB_MADE_A_MODEL,
            "FineTuneJob '"
                + jobName
                + "' used method.type full or partial and wrote a full model to "
                + status.adapter.path
                + ", not a LoRA adapter; serve it as a base model, or train with method.type lora"
                + " or qlora");
      }
      uri = status.adapter.path;
      expectedDigest = status.adapter.digest;
    } else {
      uri = e.source.path;
    }
    String relative = ServingResources.artifactRelativePath(uri, settings);
    if (relative == null) {
      return new Blocked(
          e.name,
          pin,
          true,
          Reasons.NOT_ON_ARTIFACT_STORE,
          "'"
              + uri
              + "' is not a folder on the artifact store; serving pods mount only pvc://"
              + settings.artifactClaimName()
              + "/..., so copy the adapter there and set "
              + field
              + ".source.path to pvc://"
              + settings.artifactClaimName()
              + "/adapters/<name>");
    }
    if (!readsStoreOf(ad.getMetadata().getNamespace())) {
      AdapterCheckJobs.Outcome outcome =
          checks.check(
              new AdapterCheckJobs.Request(
                  relative, expectedDigest, maxRank, settings.targetModules()));
      String servedKey = servedKey(ad, e.name);
      if (outcome instanceof AdapterCheckJobs.Waiting w) {
        Ready previous = lastPassed.get(servedKey);
        if (!w.failed() && previous != null) {
          // A new version is being checked: keep serving the one that passed until it is done.
          DesiredAdapter d = previous.desired();
          return new Ready(new DesiredAdapter(e.name, d.src(), pin, d.digest()));
        }
        return new Blocked(e.name, pin, w.failed(), w.reason(), w.message());
      }
      AdapterCheckJobs.Verdict v = (AdapterCheckJobs.Verdict) outcome;
      Resolved resolved = toResolved(e, relative, pin, v.result(), v.retryNote());
      if (resolved instanceof Ready r) {
        lastPassed.put(servedKey, r);
      } else {
        lastPassed.remove(servedKey);
      }
      return resolved;
    }
    Path folder = settings.artifactsRoot().resolve(relative);
    return toResolved(e, relative, pin, check(folder, expectedDigest, maxRank), null);
  }

  /**
   * Whether the operator pod reads the artifact store of {@code namespace} itself: it is mounted at
   * the artifacts root, and the mount is that namespace's (or not tied to one).
   */
  private boolean readsStoreOf(String namespace) {
    String mounted = settings.checks().mountNamespace();
    return Files.isDirectory(settings.artifactsRoot())
        && (mounted == null || mounted.equals(namespace));
  }

  private static Resolved toResolved(
      AdapterEntry e, String relative, boolean pin, AdapterCheckResult result, String note) {
    if (!result.ok()) {
      return new Blocked(
          e.name,
          pin,
          true,
          result.reason(),
          note == null ? result.message() : result.message() + "; " + note);
    }
    return new Ready(
        new DesiredAdapter(
            e.name, ServingResources.ARTIFACTS_DIR + "/" + relative, pin, result.digest()));
  }

  private AdapterCheckResult check(Path folder, String expectedDigest, int maxRank) {
    CacheKey key = new CacheKey(folder.toString(), expectedDigest, maxRank, fingerprint(folder));
    AdapterCheckResult cached = checked.get(key);
    if (cached != null) {
      return cached;
    }
    AdapterCheckResult result =
        new AdapterChecks(maxRank, settings.targetModules()).check(folder, expectedDigest);
    // Bounded: an entry per folder state; old states of the same folder are dropped.
    checked.keySet().removeIf(k -> k.folder().equals(key.folder()));
    checked.put(key, result);
    return result;
  }

  private static String fingerprint(Path folder) {
    if (!Files.isDirectory(folder)) {
      return "missing";
    }
    Set<String> parts = new TreeSet<>();
    try (Stream<Path> files = Files.list(folder)) {
      files.forEach(
          p -> {
            try {
              parts.add(
                  p.getFileName()
                      + ":"
                      + Files.size(p)
                      + ":"
                      + Files.getLastModifiedTime(p).toMillis());
            } catch (IOException ex) {
              parts.add(p.getFileName() + ":?");
            }
          });
    } catch (IOException ex) {
      return "unreadable";
    }
    return String.join(",", parts);
  }

  /** Forgets cached checks (the AdapterDeployment was deleted). */
  void clear() {
    checked.clear();
  }
}
