package io.kubetune.operator.modelserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process stand-in for one DJL Serving pod, faithful to the management API of design §6:
 * status codes, error documents, pagination, LoRA slots, the {@code /ping} body and a one-token
 * {@code /invocations}. Each instance can be told to fail in each documented way.
 */
public final class FakeDjlServing implements AutoCloseable {

  /** The model name DJL Serving uses when the model is loaded from /opt/ml/model. */
  public static final String MODEL = "model";

  private static final ObjectMapper JSON = new ObjectMapper();

  static {
    // The JDK server writes headers and body separately; without TCP_NODELAY each answer waits
    // for the client's delayed ACK (~40 ms), which would make the fake, not the code, the
    // bottleneck. Read once when the JDK server is first used in this JVM.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  /** One registered adapter. */
  public record Adapter(String name, String src, boolean pin, boolean loaded, boolean lost) {}

  private final Map<String, Adapter> adapters = new TreeMap<>();
  private final Set<String> failingLoads = new HashSet<>();
  private volatile int maxLoras = 8;
  private volatile int maxPageSize = 100;
  private volatile boolean loraEnabled = true;
  private volatile boolean asyncLoads;
  private volatile Duration loadDelay = Duration.ZERO;
  private volatile String modelStatus = "Healthy";

  /** Management changes in order, e.g. {@code register a}, {@code unregister a}. */
  public final List<String> changes = java.util.Collections.synchronizedList(new ArrayList<>());

  /** Counters of calls, by kind. */
  public final AtomicInteger registers = new AtomicInteger();

  public final AtomicInteger listPages = new AtomicInteger();
  public final AtomicInteger gets = new AtomicInteger();
  public final AtomicInteger updates = new AtomicInteger();
  public final AtomicInteger unregisters = new AtomicInteger();
  public final AtomicInteger invocations = new AtomicInteger();
  public final AtomicInteger pings = new AtomicInteger();

  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "fake-djl-serving");
            t.setDaemon(true);
            return t;
          });
  private HttpServer server;
  private int port;

  private FakeDjlServing() {}

  /** Starts a fake on a free loopback port. */
  public static FakeDjlServing start() throws IOException {
    FakeDjlServing fake = new FakeDjlServing();
    fake.listen(0);
    return fake;
  }

  /** Returns the base URI (management and inference share it here). */
  public URI uri() {
    return URI.create("http://127.0.0.1:" + port);
  }

  // ---- scripting ----

  /** Sets how many adapters fit (option.max_loras); registering beyond answers 507. */
  public FakeDjlServing maxLoras(int value) {
    this.maxLoras = value;
    return this;
  }

  /** Caps the page size of listings regardless of the requested limit. */
  public FakeDjlServing maxPageSize(int value) {
    this.maxPageSize = value;
    return this;
  }

  /** Starts the model without LoRA: every registration answers 400 "LoRA is not enabled.". */
  public FakeDjlServing loraEnabled(boolean value) {
    this.loraEnabled = value;
    return this;
  }

  /**
   * Makes registrations answer 200 before the adapter is loaded (vLLM async mode): inference with
   * it fails until {@link #finishLoading()}.
   */
  public FakeDjlServing asyncLoads(boolean value) {
    this.asyncLoads = value;
    return this;
  }

  /** Makes each registration take {@code delay} before answering. */
  public FakeDjlServing loadDelay(Duration delay) {
    this.loadDelay = delay;
    return this;
  }

  /** Sets the model status reported by /ping (still with HTTP 200, as DJL Serving does). */
  public FakeDjlServing modelStatus(String status) {
    this.modelStatus = status;
    return this;
  }

  /** Makes loading the adapter registered under {@code name} fail with 424 until cleared. */
  public synchronized FakeDjlServing failLoadsOf(String name) {
    failingLoads.add(name);
    return this;
  }

  /** Clears every scripted load failure. */
  public synchronized FakeDjlServing clearLoadFailures() {
    failingLoads.clear();
    return this;
  }

  /** Completes every pending asynchronous load. */
  public synchronized void finishLoading() {
    adapters.replaceAll((n, a) -> a.lost() ? a : new Adapter(n, a.src(), a.pin(), true, false));
  }

  /** Simulates a pod or worker restart: every runtime registration is lost. */
  public synchronized void restart() {
    adapters.clear();
  }

  /**
   * Simulates a Python worker restart the front end did not notice: adapters stay listed but
   * inference with them answers 404 until they are registered again.
   */
  public synchronized void loseLoadedAdaptersKeepListing() {
    adapters.replaceAll((n, a) -> new Adapter(n, a.src(), a.pin(), false, true));
  }

  /** Stops accepting connections (they are refused) until {@link #startListening()}. */
  public synchronized void stopListening() {
    server.stop(0);
  }

  /** Accepts connections again on the same port. */
  public synchronized void startListening() throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        listen(port);
        return;
      } catch (BindException e) {
        if (attempt >= 50) {
          throw e;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Returns the registered adapters by name. */
  public synchronized Map<String, Adapter> adapters() {
    return Map.copyOf(adapters);
  }

  /** Returns the number of management calls (everything except inference and ping). */
  public int managementCalls() {
    return registers.get() + listPages.get() + gets.get() + updates.get() + unregisters.get();
  }

  @Override
  public synchronized void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  // ---- HTTP ----

  private void listen(int onPort) throws IOException {
    HttpServer s =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 0);
    s.setExecutor(executor);
    s.createContext("/", this::handle);
    s.start();
    server = s;
    port = s.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      route(exchange);
    } finally {
      exchange.close();
    }
  }

  private void route(HttpExchange exchange) throws IOException {
    {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getRawPath();
      Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
      String[] parts = path.substring(1).split("/");
      for (int i = 0; i < parts.length; i++) {
        parts[i] = URLDecoder.decode(parts[i], StandardCharsets.UTF_8);
      }
      if (path.equals("/ping") && method.equals("GET")) {
        pings.incrementAndGet();
        ObjectNode body = JSON.createObjectNode();
        body.put(MODEL, modelStatus);
        send(exchange, 200, body);
      } else if (path.equals("/invocations") && method.equals("POST")) {
        invocations.incrementAndGet();
        invoke(exchange);
      } else if (parts.length >= 3 && parts[0].equals("models") && parts[2].equals("adapters")) {
        if (!parts[1].equals(MODEL)) {
          error(exchange, 404, "ModelNotFoundException", "Model " + parts[1] + " not found");
        } else if (parts.length == 3 && method.equals("POST")) {
          registers.incrementAndGet();
          register(exchange, query);
        } else if (parts.length == 3 && method.equals("GET")) {
          listPages.incrementAndGet();
          list(exchange, query);
        } else if (parts.length == 4 && method.equals("GET")) {
          gets.incrementAndGet();
          Adapter a = adapter(parts[3]);
          if (a == null) {
            notFound(exchange, parts[3]);
          } else {
            send(exchange, 200, describe(a));
          }
        } else if (parts.length == 5 && parts[4].equals("update") && method.equals("POST")) {
          updates.incrementAndGet();
          update(exchange, parts[3], query);
        } else if (parts.length == 4 && method.equals("DELETE")) {
          unregisters.incrementAndGet();
          boolean removed;
          synchronized (this) {
            removed = adapters.remove(parts[3]) != null;
            if (removed) {
              changes.add("unregister " + parts[3]);
            }
          }
          if (removed) {
            status(exchange, "Adapter " + parts[3] + " unregistered");
          } else {
            notFound(exchange, parts[3]);
          }
        } else {
          error(exchange, 405, "MethodNotAllowedException", "Method not allowed");
        }
      } else {
        error(exchange, 404, "ResourceNotFoundException", "Requested resource is not found");
      }
    }
  }

  private void register(HttpExchange exchange, Map<String, String> q) throws IOException {
    String name = q.get("name");
    String src = q.get("src");
    if (!loraEnabled) {
      error(exchange, 400, "BadRequestException", "LoRA is not enabled.");
      return;
    }
    if (name == null || name.isEmpty()) {
      error(exchange, 400, "BadRequestException", "Parameter name is required.");
      return;
    }
    if (src == null || src.isEmpty()) {
      error(exchange, 400, "BadRequestException", "Parameter src is required.");
      return;
    }
    synchronized (this) {
      if (adapters.containsKey(name)) {
        error(exchange, 409, "ConflictStatusException", "Adapter " + name + " already registered");
        return;
      }
      if (adapters.size() >= maxLoras) {
        error(exchange, 507, "InsufficientStorageException", "No free lora slots");
        return;
      }
    }
    Duration delay = loadDelay;
    if (!delay.isZero()) {
      try {
        Thread.sleep(delay.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    synchronized (this) {
      if (failingLoads.contains(name)) {
        error(
            exchange,
            424,
            "ServiceUnavailableException",
            "Failed to load adapter " + name + ": target module not found in the base model");
        return;
      }
      if (adapters.containsKey(name)) {
        error(exchange, 409, "ConflictStatusException", "Adapter " + name + " already registered");
        return;
      }
      if (adapters.size() >= maxLoras) {
        error(exchange, 507, "InsufficientStorageException", "No free lora slots");
        return;
      }
      boolean pin = "true".equals(q.get("pin"));
      adapters.put(name, new Adapter(name, src, pin, !asyncLoads, false));
      changes.add("register " + name);
    }
    status(exchange, "Adapter " + name + " registered");
  }

  private void list(HttpExchange exchange, Map<String, String> q) throws IOException {
    int limit;
    try {
      limit = Integer.parseInt(q.getOrDefault("limit", "100"));
    } catch (NumberFormatException e) {
      error(exchange, 400, "BadRequestException", "Invalid limit");
      return;
    }
    limit = Math.max(1, Math.min(limit, maxPageSize));
    int start = 0;
    String token = q.get("next_page_token");
    if (token != null) {
      try {
        start = Integer.parseInt(token);
      } catch (NumberFormatException e) {
        error(exchange, 400, "BadRequestException", "Invalid next_page_token");
        return;
      }
    }
    List<Adapter> all;
    synchronized (this) {
      all = new ArrayList<>(adapters.values());
    }
    ObjectNode body = JSON.createObjectNode();
    ArrayNode items = body.putArray("adapters");
    int end = Math.min(all.size(), start + limit);
    for (int i = start; i < end; i++) {
      items.add(describe(all.get(i)));
    }
    if (end < all.size()) {
      body.put("nextPageToken", Integer.toString(end));
    }
    send(exchange, 200, body);
  }

  private void update(HttpExchange exchange, String name, Map<String, String> q)
      throws IOException {
    if (q.containsKey("src")) {
      error(exchange, 424, "ServiceUnavailableException", "Changing src is not supported");
      return;
    }
    synchronized (this) {
      Adapter a = adapters.get(name);
      if (a == null) {
        notFound(exchange, name);
        return;
      }
      if (q.containsKey("pin")) {
        adapters.put(
            name, new Adapter(name, a.src(), "true".equals(q.get("pin")), a.loaded(), a.lost()));
      }
    }
    status(exchange, "Adapter " + name + " updated");
  }

  private void invoke(HttpExchange exchange) throws IOException {
    JsonNode request;
    try (InputStream in = exchange.getRequestBody()) {
      request = JSON.readTree(in);
    } catch (IOException e) {
      error(exchange, 400, "BadRequestException", "Invalid JSON");
      return;
    }
    if (request == null || !request.has("inputs")) {
      error(exchange, 400, "BadRequestException", "Parameter inputs is required.");
      return;
    }
    String name = request.path("adapters").asText(null);
    if (name != null) {
      Adapter a = adapter(name);
      if (a == null || a.lost()) {
        notFound(exchange, name);
        return;
      }
      if (!a.loaded()) {
        error(exchange, 503, "ServiceUnavailableException", "Adapter " + name + " is loading");
        return;
      }
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("generated_text", "x");
    send(exchange, 200, body);
  }

  private synchronized Adapter adapter(String name) {
    return adapters.get(name);
  }

  private static ObjectNode describe(Adapter a) {
    ObjectNode node = JSON.createObjectNode();
    node.put("name", a.name());
    node.put("src", a.src());
    node.put("preload", true);
    node.put("pin", a.pin());
    return node;
  }

  private static void notFound(HttpExchange exchange, String name) throws IOException {
    error(exchange, 404, "AdapterNotFoundException", "Adapter " + name + " not found");
  }

  private static void status(HttpExchange exchange, String message) throws IOException {
    ObjectNode body = JSON.createObjectNode();
    body.put("status", message);
    send(exchange, 200, body);
  }

  private static void error(HttpExchange exchange, int code, String type, String message)
      throws IOException {
    ObjectNode body = JSON.createObjectNode();
    body.put("code", code);
    body.put("type", type);
    body.put("message", message);
    send(exchange, code, body);
  }

  private static void send(HttpExchange exchange, int code, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      q.put(
          URLDecoder.decode(key, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return q;
  }
}
