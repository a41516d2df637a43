package io.kubetune.operator.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Serves {@code /healthz}, {@code /readyz} and {@code /metrics} on one port with the JDK's HTTP
 * server, so the operator needs no web framework.
 */
public final class ProbeServer implements AutoCloseable {

  /** The answer of a health check: the HTTP status follows {@code ok}. */
  public record Health(boolean ok, String detail) {}

  private final HttpServer server;
  private final ExecutorService executor;

  private ProbeServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts the server on all interfaces (kubelet probes and Prometheus reach the pod IP).
   *
   * @param port the port; 0 picks a free one
   * @param liveness answers /healthz
   * @param readiness answers /readyz
   * @param metrics returns the Prometheus text exposition for /metrics
   */
  public static ProbeServer start(
      int port, Supplier<Health> liveness, Supplier<Health> readiness, Supplier<String> metrics)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    // Two threads: a slow scrape must not delay a liveness probe into a restart.
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "kubetune-probes");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/healthz", exchange -> health(exchange, liveness));
    server.createContext("/readyz", exchange -> health(exchange, readiness));
    server.createContext(
        "/metrics",
        exchange -> {
          if (!isGet(exchange)) {
            return;
          }
          respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
        });
    server.start();
    return new ProbeServer(server, executor);
  }

  /** Returns the port the server listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void health(HttpExchange exchange, Supplier<Health> check) throws IOException {
    if (!isGet(exchange)) {
      return;
    }
    Health health;
    try {
      health = check.get();
    } catch (RuntimeException e) {
      health = new Health(false, "health check failed: " + e);
    }
    respond(exchange, health.ok() ? 200 : 503, "text/plain; charset=utf-8", health.detail() + "\n");
  }

  private static boolean isGet(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    if (method.equals("GET") || method.equals("HEAD")) {
      return true;
    }
    respond(exchange, 405, "text/plain; charset=utf-8", "use GET\n");
    return false;
  }

  private static void respond(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      if (!head) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
