package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.Pod;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import java.net.URI;
import java.util.Optional;

/**
 * Finds where a serving pod's management and inference APIs answer. Production uses the pod IP;
 * tests map pod names to fake model servers on the loopback interface.
 */
@FunctionalInterface
public interface PodEndpointResolver {

  /** Returns the endpoints of {@code pod}, or empty when it has none yet (no IP). */
  Optional<PodEndpoint> resolve(Pod pod);

  /** {@code http://<podIP>:<port>} for both APIs, with the ports from the settings. */
  static PodEndpointResolver podIp(AdapterDeploymentSettings settings) {
    return pod -> {
      String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
      if (ip == null || ip.isBlank()) {
        return Optional.empty();
      }
      // IPv6 pod IPs need brackets in a URI.
      String host = ip.contains(":") ? "[" + ip + "]" : ip;
      return Optional.of(
          new PodEndpoint(
              pod.getMetadata().getName(),
              URI.create("http://" + host + ":" + settings.managementPort()),
              URI.create("http://" + host + ":" + settings.inferencePort())));
    };
  }
}
