package io.kubetune.operator.adapter;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.Operator;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.kubetune.operator.modelserver.FakeDjlServing;
import io.kubetune.operator.testing.GeneratedCrds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
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
  final Map<String, FakeDjlServing> fakes = new ConcurrentHashMap<>();
  private Operator operator;

  ServingHarness(KubernetesClient client, Path artifacts) {
    this.client = client;
    this.artifacts = artifacts;
    this.settings =
        AdapterDeploymentSettings.defaults()
            .withArtifactsRoot(artifacts)
            .withSync(
                new AdapterSynchronizer.Settings(
                    AdapterDeploymentSettings.MODEL_NAME,
                    4,
                    Duration.ofSeconds(30),
                    Duration.ofMillis(200),
                    Duration.ofSeconds(1),
                    Duration.ofMinutes(10),
                    Duration.ofHours(1),
                    "hi"),
                Duration.ofSeconds(1),
                Duration.ofMillis(200));
    GeneratedCrds.register(client);
    start();
  }

  void start() {
    operator = OperatorBootstrap.newOperator(client);
    operator.register(new AdapterDeploymentReconciler(settings, this::endpoint, Clock.systemUTC()));
    operator.start();
  }

  /** Stops the operator, as a crash or a leader change would. */
  void stop() {
    operator.stop();
  }

  private Optional<PodEndpoint> endpoint(Pod pod) {
    FakeDjlServing fake = fakes.get(pod.getMetadata().getName());
    return fake == null
        ? Optional.empty()
        : Optional.of(new PodEndpoint(pod.getMetadata().getName(), fake.uri(), fake.uri()));
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
    try {
      Path dir = Files.createDirectories(artifacts.resolve("adapters").resolve(folder));
      Map<String, String> c = new java.util.LinkedHashMap<>();
      c.put("peft_type", "\"LORA\"");
      c.put("task_type", "\"CAUSAL_LM\"");
      c.put("r", Integer.toString(r));
      c.put("lora_alpha", Integer.toString(2 * r));
      c.put("lora_dropout", "0.05");
      c.put("target_modules", "[\"q_proj\", \"v_proj\"]");
      c.put("bias", "\"none\"");
      c.put("use_rslora", "false");
      c.put("use_dora", "false");
      c.put("modules_to_save", "null");
      c.put("base_model_name_or_path", "\"tiny-llama\"");
      c.putAll(overrides);
      StringBuilder json = new StringBuilder("{");
      c.forEach(
          (k, v) ->
              json.append(json.length() > 1 ? ", " : "")
                  .append('"')
                  .append(k)
                  .append("\": ")
                  .append(v));
      json.append('}');
      Files.writeString(dir.resolve(AdapterDigest.CONFIG_FILE), json);
      byte[] weights = ("{}" + seed).getBytes(StandardCharsets.UTF_8);
      Files.write(dir.resolve(AdapterDigest.WEIGHTS_FILE), weights);
      return AdapterDigest.of(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
    try {
      FakeDjlServing fake = FakeDjlServing.start();
      setup.accept(fake);
      fakes.put(podName, fake);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(podName)
            .withNamespace(ns)
            .withLabels(
                Map.of(
                    ServingResources.MANAGED_BY,
                    ServingResources.OPERATOR,
                    ServingResources.ADAPTER_DEPLOYMENT,
                    ad,
                    ServingResources.COMPONENT,
                    ServingResources.SERVING))
            .withCreationTimestamp(Instant.now().toString())
            .endMetadata()
            .withNewStatus()
            .withPhase("Running")
            .withPodIP("127.0.0.1")
            .addNewCondition()
            .withType("Ready")
            .withStatus("True")
            .endCondition()
            .addNewContainerStatus()
            .withName(ServingResources.CONTAINER)
            .withReady(true)
            .withRestartCount(0)
            .endContainerStatus()
            .endStatus()
            .build();
    return client.resource(pod).create();
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
    fakes.values().forEach(FakeDjlServing::close);
  }
}
