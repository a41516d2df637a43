package io.kubetune.operator.testing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubetune.operator.adapter.AdapterDeploymentSettings;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.kubetune.operator.modelserver.FakeDjlServing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Model server pods on the mock server, each backed by a {@link FakeDjlServing} on the loopback
 * interface; {@link #endpoint} is the operator's way to reach them.
 */
public final class FakeServingPods implements AutoCloseable {
  /** The fake of each pod, by pod name. */
  public final Map<String, FakeDjlServing> fakes = new ConcurrentHashMap<>();

  /**
   * {@code settings} with synchronizer timings that suit fakes on the loopback interface: short
   * timeouts and backoff, resyncs every second.
   */
  public static AdapterDeploymentSettings fastSync(AdapterDeploymentSettings settings) {
    return settings.withSync(
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
  }

  /** Where the operator reaches {@code pod}'s fake, if it has one. */
  public Optional<PodEndpoint> endpoint(Pod pod) {
    FakeDjlServing fake = fakes.get(pod.getMetadata().getName());
    return fake == null
        ? Optional.empty()
        : Optional.of(new PodEndpoint(pod.getMetadata().getName(), fake.uri(), fake.uri()));
  }

  /**
   * Creates a Running and Ready serving pod of {@code ad} whose new fake is set up by {@code setup}
   * before the pod appears.
   */
  public Pod readyPod(
      KubernetesClient client, String ns, String ad, String name, Consumer<FakeDjlServing> setup) {
    try {
      FakeDjlServing fake = FakeDjlServing.start();
      setup.accept(fake);
      fakes.put(name, fake);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return client.resource(Pods.readyServing(ns, ad, name)).create();
  }

  @Override
  public void close() {
    fakes.values().forEach(FakeDjlServing::close);
  }
}
