package io.kubetune.trainer.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerProgress;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes progress as a JSON merge patch of the {@code progress.json} key of the job's progress
 * ConfigMap through the Kubernetes API, with the pod's service-account token. The operator creates
 * the ConfigMap; the trainer's Role only allows {@code get}/{@code patch}/{@code update} on it, so
 * a merge patch (no read-modify-write, no create) is the one call needed.
 *
 * <p>Failures are logged and swallowed: a missing Role or an API server hiccup must not cost a
 * training run. The token is read from its file for every request (kubelet rotates it) and is never
 * logged.
 */
public final class ConfigMapProgressSink implements ProgressSink {
  /** The media type of a JSON merge patch (RFC 7386). */
  public static final String MERGE_PATCH = "application/merge-patch+json";

  private static final Logger LOG = LoggerFactory.getLogger(ConfigMapProgressSink.class);

  private final URI uri;
  private final String description;
  private final Path tokenFile;
  private final HttpClient http;
  private int lastFailureStatus;
  private boolean failing;

  /**
   * Creates a sink patching {@code namespace/name}.
   *
   * @param apiServer API server base URL
   * @param namespace namespace of the ConfigMap
   * @param name ConfigMap name
   * @param tokenFile service-account token file
   * @param http HTTP client (trusting the cluster CA)
   */
  public ConfigMapProgressSink(
      URI apiServer, String namespace, String name, Path tokenFile, HttpClient http) {
    this.uri =
        URI.create(
            apiServer
                + "/api/v1/namespaces/"
                + URLEncoder.encode(namespace, StandardCharsets.UTF_8)
                + "/configmaps/"
                + URLEncoder.encode(name, StandardCharsets.UTF_8));
    this.description = "ConfigMap " + namespace + "/" + name;
    this.tokenFile = tokenFile;
    this.http = http;
  }

  /** The document sent for one progress update. */
  static String patchBody(TrainerProgress progress) {
    ObjectNode patch = Contract.json().createObjectNode();
    patch.putObject("data").put(Contract.PROGRESS_KEY, Contract.write(progress));
    return patch.toString();
  }

  @Override
  public void publish(TrainerProgress progress) {
    String token;
    try {
      token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      failed(-1, "cannot read the service-account token file " + tokenFile);
      return;
    }
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", MERGE_PATCH)
            .header("Accept", "application/json")
            .header("Authorization", "Bearer " + token)
            .method("PATCH", HttpRequest.BodyPublishers.ofString(patchBody(progress)))
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        if (failing) {
          LOG.info("progress updates to {} work again", description);
        }
        failing = false;
        lastFailureStatus = 0;
        return;
      }
      failed(status, "HTTP " + status + statusMessage(response.body()) + hint(status));
    } catch (IOException e) {
      failed(
          -2, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failed(-3, "interrupted");
    }
  }

  private void failed(int status, String why) {
    // One warning per kind of failure is enough; repeating it every few seconds buries the log.
    if (!failing || status != lastFailureStatus) {
      LOG.warn("progress update to {} failed: {}; training continues", description, why);
    } else {
      LOG.debug("progress update to {} failed again: {}", description, why);
    }
    failing = true;
    lastFailureStatus = status;
  }

  private static String hint(int status) {
    switch (status) {
      case 401:
        return " (the service-account token was rejected)";
      case 403:
        return " (the trainer's Role must allow get/patch on this ConfigMap)";
      case 404:
        return " (the operator creates this ConfigMap before the trainer starts)";
      default:
        return "";
    }
  }

  /** The {@code message} of a Kubernetes Status body, which names the denied verb and resource. */
  private static String statusMessage(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode node = Contract.json().readTree(body);
      JsonNode message = node == null ? null : node.get("message");
      if (message != null && message.isTextual()) {
        String m = message.asText();
        return ": " + (m.length() > 300 ? m.substring(0, 300) + "..." : m);
      }
    } catch (IOException e) {
      // Not a Status document; the status code says enough.
    }
    return "";
  }
}
