package io.kubetune.operator.adapter;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.Operator;
import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.AdapterChecks;
import io.kubetune.contract.Contract;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.modelserver.FakeDjlServing;
import io.kubetune.operator.testing.FakeServingPods;
import io.kubetune.operator.testing.GeneratedCrds;
import io.kubetune.operator.testing.Jobs;
import io.kubetune.operator.testing.PeftAdapters;
import io.kubetune.operator.testing.Pods;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Plays Kubernetes' part for AdapterDeployment tests on the mock server: serving pods that the
 * kubelet reports Ready, each backed by a {@link FakeDjlServing} on the loopback interface, and
 * adapter folders on an artifact store the operator reads from a temporary directory.
 */
final class ServingHarness implements AutoCloseable {
  /** Generous: the build machine is shared and slow; awaits return as soon as they hold. */
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  final KubernetesClient client;
  final Path artifacts;
  final AdapterDeploymentSettings settings;
  final FakeServingPods pods = new FakeServingPods();
  final Map<String, FakeDjlServing> fakes = pods.fakes;
  private Operator operator;

  ServingHarness(KubernetesClient client, Path artifacts) {
    this(client, artifacts, true);
  }

  /**
   * A harness whose operator does not mount the artifact store (the default install): adapter
   * folders are written to {@code artifacts}, which only the check pods "mount" ({@link
   * #runCheckPod}).
   */
  static ServingHarness withoutOperatorMount(KubernetesClient client, Path artifacts) {
    return new ServingHarness(client, artifacts, false);
  }

  private ServingHarness(KubernetesClient client, Path artifacts, boolean operatorMount) {
    this.client = client;
    this.artifacts = artifacts;
    AdapterDeploymentSettings defaults = AdapterDeploymentSettings.defaults();
    this.settings =
        FakeServingPods.fastSync(
            defaults
                .withArtifactsRoot(
                    operatorMount ? artifacts : artifacts.resolve("not-mounted-in-the-operator"))
                .withChecks(
                    defaults.checks().withRetry(Duration.ofSeconds(1), Duration.ofSeconds(2))));
    GeneratedCrds.register(client);
    start();
  }

  void start() {
    operator = OperatorBootstrap.newOperator(client);
    operator.register(new AdapterDeploymentReconciler(settings, pods::endpoint, Clock.systemUTC()));
    operator.start();
  }

  /** Stops the operator, as a crash or a leader change would. */
  void stop() {
    operator.stop();
  }

  // ------------------------------------------------------------------ artifacts

  /**
   * Writes a valid PEFT LoRA adapter of rank {@code r} to adapters/{folder}; returns its digest.
   */
  String writeAdapter(String folder, int r, String seed) {
    return writeAdapter(folder, r, seed, Map.of());
  }

  /** Writes an adapter whose config has {@code overrides} (JSON values); returns its digest. */
  String writeAdapter(String folder, int r, String seed, Map<String, String> overrides) {
    return PeftAdapters.write(artifacts, folder, r, seed, overrides);
  }

  // ------------------------------------------------------------------ resources

  AdapterDeployment create(AdapterDeployment ad) {
    return client.resource(ad).create();
  }

  AdapterDeployment get(String ns, String name) {
    return client.resources(AdapterDeployment.class).inNamespace(ns).withName(name).get();
  }

  /** Changes an AdapterDeployment's spec as kubectl edit would, retrying on conflicts. */
  void edit(String ns, String name, Consumer<AdapterDeployment> change) {
    await()
        .atMost(TIMEOUT)
        .ignoreExceptionsInstanceOf(KubernetesClientException.class)
        .until(
            () -> {
              client
                  .resources(AdapterDeployment.class)
                  .inNamespace(ns)
                  .withName(name)
                  .edit(
                      ad -> {
                        change.accept(ad);
                        return ad;
                      });
              return true;
            });
  }

  AdapterDeploymentStatus awaitStatus(
      String ns, String name, String what, Predicate<AdapterDeploymentStatus> condition) {
    return await(what)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> get(ns, name),
            ad -> ad != null && ad.getStatus() != null && condition.test(ad.getStatus()))
        .getStatus();
  }

  static AdapterState adapter(AdapterDeploymentStatus s, String name) {
    return s.adapters == null
        ? null
        : s.adapters.stream().filter(a -> name.equals(a.name)).findFirst().orElse(null);
  }

  static boolean phase(
      AdapterDeploymentStatus s, String name, AdapterDeploymentStatus.AdapterPhase phase) {
    AdapterState a = adapter(s, name);
    return a != null && a.phase == phase;
  }

  static String condition(AdapterDeploymentStatus s, String type) {
    return s.conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .map(c -> c.getStatus() + "/" + c.getReason())
        .findFirst()
        .orElse(null);
  }

  Deployment awaitDeployment(String ns, String name) {
    return await("Deployment " + name)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> client.apps().deployments().inNamespace(ns).withName(name).get(), d -> d != null);
  }

  /** The kubelet's view of a started serving pod: Running and Ready, backed by a new fake. */
  Pod readyPod(String ns, String ad, String podName) {
    return readyPod(ns, ad, podName, f -> {});
  }

  /** A started serving pod whose fake is set up by {@code setup} before the pod appears. */
  Pod readyPod(String ns, String ad, String podName, Consumer<FakeDjlServing> setup) {
    return pods.readyPod(client, ns, ad, podName, setup);
  }

  /** The kubelet reports a container restart of {@code podName}. */
  void containerRestarted(String ns, String podName) {
    Pod pod = client.pods().inNamespace(ns).withName(podName).get();
    pod.getStatus()
        .getContainerStatuses()
        .get(0)
        .setRestartCount(pod.getStatus().getContainerStatuses().get(0).getRestartCount() + 1);
    client.resource(pod).updateStatus();
  }

  FakeDjlServing fake(String podName) {
    return fakes.get(podName);
  }

  // ------------------------------------------------------------------ adapter check Jobs

  /** The adapter check Jobs of {@code ad} that exist now. */
  List<Job> checkJobs(String ns, String ad) {
    return client
        .batch()
        .v1()
        .jobs()
        .inNamespace(ns)
        .withLabel(ServingResources.ADAPTER_DEPLOYMENT, ad)
        .withLabel(ServingResources.COMPONENT, AdapterCheckJobs.COMPONENT)
        .list()
        .getItems();
  }

  /** Waits for a check Job of {@code ad} for which {@code test} holds. */
  Job awaitCheckJob(String ns, String ad, String what, Predicate<Job> test) {
    try {
      return await(what)
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> checkJobs(ns, ad).stream().filter(test).findFirst(), Optional::isPresent)
          .get();
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      AdapterDeployment current = get(ns, ad);
      throw new AssertionError(
          what
              + ": no such check Job; status: "
              + (current == null ? null : Contract.write(current.getStatus())),
          e);
    }
  }

  /** The value of {@code option} in the check container's arguments, or null. */
  static String arg(Job job, String option) {
    List<String> args = job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
    int i = args.indexOf(option);
    return i < 0 ? null : args.get(i + 1);
  }

  /**
   * Plays the kubelet running a check pod: the checks of {@code check-adapter} run on the folder
   * the Job names, on this harness's artifact store, and the pod terminates with the verdict as its
   * termination message (exit 0 or 7), then the Job completes or fails as Kubernetes reports it.
   */
  AdapterCheckResult runCheckPod(Job job) {
    String dir = arg(job, "--dir");
    Path folder = artifacts.resolve(dir.substring(ServingResources.ARTIFACTS_DIR.length() + 1));
    AdapterCheckResult verdict =
        new AdapterChecks(
                Integer.parseInt(arg(job, "--max-rank")),
                Set.of(arg(job, "--target-modules").split(",")))
            .check(folder, arg(job, "--expect-digest"));
    terminateCheckPod(
        job,
        verdict.ok() ? 0 : AdapterChecks.REFUSED_EXIT_CODE,
        null,
        Contract.writeBounded(verdict),
        verdict.ok() ? "Complete" : "Failed",
        verdict.ok() ? null : "BackoffLimitExceeded");
    return verdict;
  }

  /** A check pod that dies without a verdict (its log tail as message), and its failed Job. */
  void crashCheckPod(Job job, String podReason, String logTail, String jobReason) {
    terminateCheckPod(job, 1, podReason, logTail, "Failed", jobReason);
  }

  private void terminateCheckPod(
      Job job,
      int exitCode,
      String podReason,
      String message,
      String jobCondition,
      String jobReason) {
    Pod pod =
        Pods.ofJob(
            job,
            job.getMetadata().getName() + "-" + Long.toHexString(System.nanoTime()),
            exitCode == 0 ? "Succeeded" : "Failed",
            Pods.terminated(
                    exitCode,
                    podReason == null ? (exitCode == 0 ? "Completed" : "Error") : podReason,
                    message)
                .withName(AdapterCheckJobs.CONTAINER)
                .build());
    client.resource(pod).create();
    Job current = client.resource(job).get();
    current.setStatus(Jobs.withCondition(jobCondition, jobReason));
    client.resource(current).updateStatus();
  }

  /** A check pod the scheduler cannot place. */
  void unschedulableCheckPod(Job job, String message) {
    client
        .resource(Pods.unschedulable(job, job.getMetadata().getName() + "-pending", message))
        .create();
  }

  // ------------------------------------------------------------------ FineTuneJobs

  /** A FineTuneJob as the FineTuneJob controller leaves it: only its status matters here. */
  void fineTuneJob(
      String ns, String name, FineTuneJobStatus.Phase phase, String path, String digest) {
    FineTuneJob job = client.resources(FineTuneJob.class).inNamespace(ns).withName(name).get();
    if (job == null) {
      job = new FineTuneJob();
      job.setMetadata(
          new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
              .withNamespace(ns)
              .withName(name)
              .build());
      job.setSpec(new io.kubetune.operator.api.v1alpha1.FineTuneJobSpec());
      job = client.resource(job).create();
    }
    FineTuneJobStatus status = new FineTuneJobStatus();
    status.phase = phase;
    if (path != null) {
      status.adapter = new FineTuneJobStatus.Adapter();
      status.adapter.path = path;
      status.adapter.digest = digest;
    }
    job.setStatus(status);
    client.resource(job).updateStatus();
  }

  @Override
  public void close() {
    operator.stop();
    pods.close();
  }
}
