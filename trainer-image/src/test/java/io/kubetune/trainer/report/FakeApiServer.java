package io.kubetune.trainer.report;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A Kubernetes API server on 127.0.0.1 (plain HTTP) that records every request and answers with a
 * configurable status and a Kubernetes {@code Status} body for errors.
 */
final class FakeApiServer implements AutoCloseable {
  /** One request as received. */
  record Request(
      String method, String path, String contentType, String authorization, String body) {}

  private final HttpServer server;
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  volatile int status = 200;

  /** When set, every request waits for it before being answered (a hanging API server). */
  volatile CountDownLatch gate;

  FakeApiServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String host() {
    return "127.0.0.1";
  }

  String port() {
    return Integer.toString(server.getAddress().getPort());
  }

  List<Request> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      requests.add(
          new Request(
              ex.getRequestMethod(),
              ex.getRequestURI().getRawPath(),
              ex.getRequestHeaders().getFirst("Content-Type"),
              ex.getRequestHeaders().getFirst("Authorization"),
              body));
      CountDownLatch g = gate;
      if (g != null) {
        try {
          g.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      int s = status;
      byte[] out =
          s < 300
              ? "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\"}".getBytes(StandardCharsets.UTF_8)
              : ("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
                      + "\"configmaps \\\"job-progress\\\" is forbidden: User"
                      + " \\\"system:serviceaccount:team:trainer\\\" cannot patch resource"
                      + " \\\"configmaps\\\"\",\"reason\":\"Forbidden\",\"code\":"
                      + s
                      + "}")
                  .getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(s, out.length);
      ex.getResponseBody().write(out);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
