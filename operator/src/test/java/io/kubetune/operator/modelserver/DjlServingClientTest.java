package io.kubetune.operator.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.kubetune.operator.modelserver.DjlServingException.Reason;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DjlServingClientTest {

  private static final String M = FakeDjlServing.MODEL;

  private FakeDjlServing fake;
  private HttpServer raw;
  private final DjlServingClient client =
      new DjlServingClient(Duration.ofSeconds(2), Duration.ofSeconds(5), 100);

  @BeforeEach
  void start() throws IOException {
    fake = FakeDjlServing.start();
  }

  @AfterEach
  void stop() {
    fake.close();
    if (raw != null) {
      raw.stop(0);
    }
  }

  @Test
  void registerListGetPinAndUnregister() throws Exception {
    client.register(fake.uri(), M, "support", "/artifacts/adapters/support job", false);
    client.register(fake.uri(), M, "sql", "/artifacts/adapters/a&b=c", true);

    List<ServedAdapter> all = client.list(fake.uri(), M);
    assertEquals(
        List.of(
            new ServedAdapter("sql", "/artifacts/adapters/a&b=c", true, true),
            new ServedAdapter("support", "/artifacts/adapters/support job", true, false)),
        all);

    client.updatePin(fake.uri(), M, "support", true);
    assertTrue(client.get(fake.uri(), M, "support").pin());

    client.unregister(fake.uri(), M, "sql");
    assertEquals(Set.of("support"), fake.adapters().keySet());
  }

  @Test
  void listFollowsPagesUntilNoToken() throws Exception {
    fake.maxLoras(20).maxPageSize(3);
    for (int i = 0; i < 7; i++) {
      client.register(fake.uri(), M, "a" + i, "/artifacts/a" + i, false);
    }
    List<ServedAdapter> all = client.list(fake.uri(), M);
    assertEquals(7, all.size());
    assertEquals(7, all.stream().map(ServedAdapter::name).collect(Collectors.toSet()).size());
    assertEquals(3, fake.listPages.get(), "7 adapters at 3 per page");
  }

  @Test
  void errorsMapToReasons() throws Exception {
    assertReason(
        Reason.MODEL_NOT_FOUND, 404, () -> client.register(fake.uri(), "other", "a", "/x", false));
    assertReason(
        Reason.MISSING_PARAMETER, 400, () -> client.register(fake.uri(), M, "a", "", false));
    assertReason(Reason.ADAPTER_NOT_FOUND, 404, () -> client.get(fake.uri(), M, "nope"));
    assertReason(Reason.ADAPTER_NOT_FOUND, 404, () -> client.unregister(fake.uri(), M, "nope"));
    assertReason(
        Reason.ADAPTER_NOT_FOUND, 404, () -> client.updatePin(fake.uri(), M, "nope", true));

    fake.maxLoras(1);
    client.register(fake.uri(), M, "a", "/x", false);
    assertReason(
        Reason.ADAPTER_ALREADY_REGISTERED,
        409,
        () -> client.register(fake.uri(), M, "a", "/x", false));
    DjlServingException full =
        assertReason(
            Reason.NO_FREE_LORA_SLOTS, 507, () -> client.register(fake.uri(), M, "b", "/y", false));
    assertEquals("No free lora slots", full.serverMessage());
    assertTrue(full.userMessage().contains("raise spec.lora.maxLoras"), full.userMessage());

    fake.maxLoras(8).failLoadsOf("c");
    assertReason(
        Reason.ADAPTER_LOAD_FAILED, 424, () -> client.register(fake.uri(), M, "c", "/z", false));

    fake.loraEnabled(false);
    DjlServingException noLora =
        assertReason(
            Reason.LORA_NOT_ENABLED, 400, () -> client.register(fake.uri(), M, "d", "/d", false));
    assertEquals("LoraNotEnabled", noLora.reason().reason());
  }

  @Test
  void inferenceConfirmsOnlyLoadedAdapters() throws Exception {
    fake.asyncLoads(true);
    client.register(fake.uri(), M, "a", "/x", false);
    assertReason(Reason.SERVER_UNAVAILABLE, 503, () -> client.infer(fake.uri(), "a", "hi"));
    assertReason(Reason.ADAPTER_NOT_FOUND, 404, () -> client.infer(fake.uri(), "nope", "hi"));
    fake.finishLoading();
    client.infer(fake.uri(), "a", "hi");
    assertEquals(3, fake.invocations.get());
  }

  @Test
  void pingIsReadFromTheBodyNotTheStatus() throws Exception {
    assertTrue(client.ping(fake.uri()).isHealthy(M));
    fake.modelStatus("PENDING");
    PingStatus pending = client.ping(fake.uri());
    assertEquals(200, pending.httpStatus());
    assertFalse(pending.isHealthy(M));
    assertFalse(pending.allHealthy());
  }

  @Test
  void refusedConnectionAndTimeoutAreTyped() throws Exception {
    DjlServingClient impatient =
        new DjlServingClient(Duration.ofSeconds(2), Duration.ofMillis(300), 100);
    fake.loadDelay(Duration.ofSeconds(3));
    assertReason(Reason.TIMEOUT, 0, () -> impatient.register(fake.uri(), M, "a", "/x", false));

    fake.stopListening();
    assertReason(Reason.SERVER_UNREACHABLE, 0, () -> client.list(fake.uri(), M));
    fake.startListening();
    client.list(fake.uri(), M);
  }

  @Test
  void malformedAnswersOnlyEverRaiseTheTypedException() throws Exception {
    assertEquals(Reason.INVALID_RESPONSE, rawAnswer(200, "not json").reason());
    assertEquals(Reason.INVALID_RESPONSE, rawAnswer(200, "[1,2]").reason());
    assertEquals(Reason.INVALID_RESPONSE, rawAnswer(200, "{\"adapters\": 5}").reason());
    assertEquals(
        Reason.INVALID_RESPONSE, rawAnswer(200, "{\"adapters\": [{\"src\": 1}]}").reason());
    assertEquals(
        Reason.INVALID_RESPONSE,
        rawAnswer(200, "{\"adapters\": [], \"nextPageToken\": \"same\"}").reason());
    DjlServingException html = rawAnswer(500, "<html>oops</html>");
    assertEquals(Reason.SERVER_ERROR, html.reason());
    assertEquals(500, html.httpStatus());
    assertTrue(html.serverMessage().contains("oops"));
    assertEquals(Reason.UNEXPECTED_STATUS, rawAnswer(302, "").reason());
  }

  private DjlServingException rawAnswer(int status, String body) throws IOException {
    if (raw != null) {
      raw.stop(0);
    }
    raw = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    raw.createContext(
        "/",
        exchange -> {
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
          exchange.close();
        });
    raw.start();
    URI uri = URI.create("http://127.0.0.1:" + raw.getAddress().getPort());
    return assertThrows(DjlServingException.class, () -> client.list(uri, M));
  }

  interface Call {
    void run() throws Exception;
  }

  private static DjlServingException assertReason(Reason reason, int status, Call call) {
    DjlServingException e = assertThrows(DjlServingException.class, call::run);
    assertEquals(reason, e.reason(), e.getMessage());
    assertEquals(status, e.httpStatus(), e.getMessage());
    return e;
  }
}
