package io.kubetune.operator.modelserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.operator.modelserver.DjlServingException.Reason;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Client for the DJL Serving adapter management API and a one-token inference (design §6). Every
 * failure, including a malformed answer, surfaces as a {@link DjlServingException} with a reason a
 * user can act on.
 */
public final class DjlServingClient {

  /** Page size requested when listing adapters. */
  public static final int DEFAULT_PAGE_SIZE = 100;

  // A server that keeps returning tokens must not keep the operator listing forever.
  private static final int MAX_PAGES = 10_000;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final Duration requestTimeout;
  private final int pageSize;
  private final ModelServerMetrics metrics;

  /**
   * Creates a client.
   *
   * @param connectTimeout bound for establishing a connection
   * @param requestTimeout bound for each request, including a preloading registration
   * @param pageSize adapters requested per page when listing
   */
  public DjlServingClient(Duration connectTimeout, Duration requestTimeout, int pageSize) {
    this(connectTimeout, requestTimeout, pageSize, ModelServerMetrics.NONE);
  }

  /**
   * Creates a client that records the latency of every call in {@code metrics}.
   *
   * @param connectTimeout bound for establishing a connection
   * @param requestTimeout bound for each request, including a preloading registration
   * @param pageSize adapters requested per page when listing
   * @param metrics where calls are recorded
   */
  public DjlServingClient(
      Duration connectTimeout, Duration requestTimeout, int pageSize, ModelServerMetrics metrics) {
    if (pageSize < 1) {
      throw new IllegalArgumentException("pageSize must be at least 1, got " + pageSize);
    }
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(connectTimeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    this.requestTimeout = requestTimeout;
    this.pageSize = pageSize;
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /** Creates a client with a 5 s connect timeout, the given request timeout and page size 100. */
  public DjlServingClient(Duration requestTimeout) {
    this(Duration.ofSeconds(5), requestTimeout, DEFAULT_PAGE_SIZE);
  }

  /** Like {@link #DjlServingClient(Duration)}, recording calls in {@code metrics}. */
  public DjlServingClient(Duration requestTimeout, ModelServerMetrics metrics) {
    this(Duration.ofSeconds(5), requestTimeout, DEFAULT_PAGE_SIZE, metrics);
  }

  /** Returns where this client records its calls; its synchronizer counts failures there too. */
  ModelServerMetrics metrics() {
    return metrics;
  }

  /**
   * Registers an adapter ({@code POST /models/{m}/adapters?name=&src=&preload=true&pin=}). Always
   * preloads, so a failing load surfaces here instead of at the first user request.
   */
  public void register(URI management, String model, String name, String src, boolean pin)
      throws DjlServingException {
    URI uri =
        uri(
            management,
            "/models/" + segment(model) + "/adapters",
            "name",
            name,
            "src",
            src,
            "preload",
            "true",
            "pin",
            Boolean.toString(pin));
    send(
        post(uri, HttpRequest.BodyPublishers.noBody()),
        Op.REGISTER,
        "register adapter " + name + " on " + management);
  }

  /** Lists every registered adapter, following {@code nextPageToken} across pages. */
  public List<ServedAdapter> list(URI management, String model) throws DjlServingException {
    String what = "list adapters on " + management;
    List<ServedAdapter> adapters = new ArrayList<>();
    Set<String> seenTokens = new HashSet<>();
    String token = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      URI uri =
          token == null
              ? uri(
                  management,
                  "/models/" + segment(model) + "/adapters",
                  "limit",
                  Integer.toString(pageSize))
              : uri(
                  management,
                  "/models/" + segment(model) + "/adapters",
                  "limit",
                  Integer.toString(pageSize),
                  "next_page_token",
                  token);
      JsonNode body = json(send(get(uri), Op.LIST, what), what);
      JsonNode items = body.get("adapters");
      if (items == null || !items.isArray()) {
        throw invalid(what, "no 'adapters' array in " + abbreviate(body.toString()));
      }
      for (JsonNode item : items) {
        adapters.add(adapter(item, what));
      }
      JsonNode next = body.get("nextPageToken");
      if (next == null || next.isNull() || next.asText().isEmpty()) {
        return adapters;
      }
      token = next.asText();
      if (!seenTokens.add(token)) {
        throw invalid(what, "nextPageToken '" + token + "' repeats; pagination would not end");
      }
    }
    throw invalid(what, "more than " + MAX_PAGES + " pages");
  }

  /** Returns one adapter ({@code GET /models/{m}/adapters/{a}}). */
  public ServedAdapter get(URI management, String model, String name) throws DjlServingException {
    String what = "get adapter " + name + " on " + management;
    URI uri = uri(management, "/models/" + segment(model) + "/adapters/" + segment(name));
    return adapter(json(send(get(uri), Op.GET, what), what), what);
  }

  /** Changes whether an adapter is pinned ({@code POST /models/{m}/adapters/{a}/update?pin=}). */
  public void updatePin(URI management, String model, String name, boolean pin)
      throws DjlServingException {
    URI uri =
        uri(
            management,
            "/models/" + segment(model) + "/adapters/" + segment(name) + "/update",
            "pin",
            Boolean.toString(pin));
    send(
        post(uri, HttpRequest.BodyPublishers.noBody()),
        Op.UPDATE_PIN,
        "update pin of adapter " + name + " on " + management);
  }

  /** Unregisters an adapter ({@code DELETE /models/{m}/adapters/{a}}). */
  public void unregister(URI management, String model, String name) throws DjlServingException {
    URI uri = uri(management, "/models/" + segment(model) + "/adapters/" + segment(name));
    send(
        HttpRequest.newBuilder(uri).timeout(requestTimeout).DELETE().build(),
        Op.UNREGISTER,
        "unregister adapter " + name + " on " + management);
  }

  /**
   * Reads {@code GET /ping}. The body is parsed whatever the status, because DJL Serving reports
   * PENDING and Unhealthy models with 200 and may answer 503 with the same body.
   */
  public PingStatus ping(URI management) throws DjlServingException {
    String what = "ping " + management;
    HttpResponse<String> response = exchange(get(uri(management, "/ping")), Op.PING, what);
    JsonNode body;
    try {
      body = JSON.readTree(response.body());
    } catch (JsonProcessingException e) {
      body = null;
    }
    if (body == null || !body.isObject()) {
      if (response.statusCode() / 100 != 2) {
        throw error(Op.PING, response.statusCode(), response.body(), what);
      }
      throw invalid(what, "not a JSON object: " + abbreviate(response.body()));
    }
    Map<String, String> models = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : body.properties()) {
      JsonNode value = field.getValue();
      if (value.isTextual()) {
        models.put(field.getKey(), value.asText());
      } else if (value.isObject() && value.path("status").isTextual()) {
        models.put(field.getKey(), value.get("status").asText());
      }
    }
    return new PingStatus(response.statusCode(), models);
  }

  /**
   * Runs a one-token inference selecting adapter {@code name} ({@code POST /invocations}). Success
   * proves the adapter is really loaded, which a 200 from registration does not in async mode.
   */
  public void infer(URI inference, String name, String prompt) throws DjlServingException {
    ObjectNode body = JSON.createObjectNode();
    body.put("inputs", prompt);
    body.putObject("parameters").put("max_new_tokens", 1);
    body.put("adapters", name);
    HttpRequest request =
        post(
            uri(inference, "/invocations"),
            HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    send(request, Op.INFER, "inference with adapter " + name + " on " + inference);
  }

  /** A call, as labelled in metrics ({@code operation}). */
  private enum Op {
    REGISTER("register"),
    LIST("list"),
    GET("get"),
    UPDATE_PIN("update_pin"),
    UNREGISTER("unregister"),
    INFER("confirm_inference"),
    PING("ping");

    final String label;

    Op(String label) {
      this.label = label;
    }

    /** True for calls on one adapter's URL ({@code /models/{m}/adapters/{a}...}). */
    boolean addressesAdapter() {
      return this == GET || this == UPDATE_PIN || this == UNREGISTER;
    }
  }

  private HttpRequest get(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(requestTimeout).GET().build();
  }

  private HttpRequest post(URI uri, HttpRequest.BodyPublisher body) {
    return HttpRequest.newBuilder(uri)
        .timeout(requestTimeout)
        .header("Content-Type", "application/json")
        .POST(body)
        .build();
  }

  private String send(HttpRequest request, Op op, String what) throws DjlServingException {
    HttpResponse<String> response = exchange(request, op, what);
    if (response.statusCode() / 100 == 2) {
      return response.body();
    }
    throw error(op, response.statusCode(), response.body(), what);
  }

  /** Sends {@code request} and records its latency and outcome: the one place calls are timed. */
  private HttpResponse<String> exchange(HttpRequest request, Op op, String what)
      throws DjlServingException {
    long start = System.nanoTime();
    String outcome = "unreachable";
    try {
      HttpResponse<String> response =
          http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      outcome = (response.statusCode() / 100) + "xx";
      return response;
    } catch (HttpConnectTimeoutException e) {
      throw new DjlServingException(
          Reason.SERVER_UNREACHABLE, 0, what, "connect timed out: " + e.getMessage(), e);
    } catch (HttpTimeoutException e) {
      outcome = "timeout";
      throw new DjlServingException(
          Reason.TIMEOUT, 0, what, "no answer within " + requestTimeout, e);
    } catch (ConnectException e) {
      throw new DjlServingException(
          Reason.SERVER_UNREACHABLE, 0, what, "connection refused or unreachable", e);
    } catch (IOException e) {
      throw new DjlServingException(
          Reason.SERVER_UNREACHABLE, 0, what, "connection failed: " + e, e);
    } catch (InterruptedException e) {
      outcome = "interrupted";
      Thread.currentThread().interrupt();
      throw new DjlServingException(Reason.INTERRUPTED, 0, what, "interrupted", e);
    } finally {
      metrics.recordCall(op.label, outcome, System.nanoTime() - start);
    }
  }

  /** Maps an error answer to a reason using the status, the call and the server's message. */
  private static DjlServingException error(Op op, int status, String body, String what) {
    String message = abbreviate(body == null ? "" : body);
    try {
      JsonNode node = JSON.readTree(body == null ? "" : body);
      if (node != null && node.path("message").isTextual()) {
        message = node.get("message").asText();
      }
    } catch (JsonProcessingException e) {
      // Not the documented error document: keep the raw (abbreviated) body as the message.
    }
    String lower = message.toLowerCase(Locale.ROOT);
    Reason reason =
        switch (status) {
          case 400 ->
              lower.contains("lora is not enabled")
                  ? Reason.LORA_NOT_ENABLED
                  : Reason.MISSING_PARAMETER;
          case 404 ->
              (op.addressesAdapter() || op == Op.INFER)
                      && (lower.contains("adapter") || !lower.contains("model"))
                  ? Reason.ADAPTER_NOT_FOUND
                  : Reason.MODEL_NOT_FOUND;
          case 409 -> Reason.ADAPTER_ALREADY_REGISTERED;
          case 424 ->
              op == Op.REGISTER || op == Op.INFER
                  ? Reason.ADAPTER_LOAD_FAILED
                  : Reason.HANDLER_ERROR;
          case 503 -> Reason.SERVER_UNAVAILABLE;
          case 507 -> Reason.NO_FREE_LORA_SLOTS;
          default -> status >= 500 ? Reason.SERVER_ERROR : Reason.UNEXPECTED_STATUS;
        };
    return new DjlServingException(reason, status, what, message, null);
  }

  private static DjlServingException invalid(String what, String detail) {
    return new DjlServingException(Reason.INVALID_RESPONSE, 200, what, detail, null);
  }

  private static JsonNode json(String body, String what) throws DjlServingException {
    try {
      JsonNode node = JSON.readTree(body);
      if (node == null || !node.isObject()) {
        throw invalid(what, "not a JSON object: " + abbreviate(body));
      }
      return node;
    } catch (JsonProcessingException e) {
      throw invalid(what, "not JSON: " + abbreviate(body));
    }
  }

  private static ServedAdapter adapter(JsonNode item, String what) throws DjlServingException {
    if (!item.isObject() || !item.path("name").isTextual()) {
      throw invalid(what, "adapter entry without a name: " + abbreviate(item.toString()));
    }
    return new ServedAdapter(
        item.get("name").asText(),
        item.path("src").asText(""),
        bool(item.get("preload")),
        bool(item.get("pin")));
  }

  // DJL Serving writes booleans as JSON booleans; accept "true" strings too, as older versions did.
  private static boolean bool(JsonNode node) {
    return node != null && (node.isBoolean() ? node.asBoolean() : "true".equals(node.asText()));
  }

  private static String abbreviate(String text) {
    return text.length() <= 300 ? text : text.substring(0, 300) + "...";
  }

  private static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static URI uri(URI base, String path, String... query) {
    StringBuilder sb = new StringBuilder(base.toString());
    while (sb.length() > 0 && sb.charAt(sb.length() - 1) == '/') {
      sb.setLength(sb.length() - 1);
    }
    sb.append(path);
    for (int i = 0; i < query.length; i += 2) {
      sb.append(i == 0 ? '?' : '&')
          .append(query[i])
          .append('=')
          .append(URLEncoder.encode(query[i + 1], StandardCharsets.UTF_8));
    }
    return URI.create(sb.toString());
  }
}
