package io.kubetune.trainer.source;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face hub on 127.0.0.1 that speaks the file-resolve protocol the way huggingface.co
 * does: {@code HEAD/GET /{org}/{name}/resolve/{revision}/{file}} with {@code X-Repo-Commit}, plain
 * files answered directly with an {@code ETag}, LFS files answered by a 302 to a separate CDN
 * server (another origin) carrying {@code X-Linked-Etag} (the sha256) and {@code X-Linked-Size}.
 * The CDN honours {@code Range}. It can be told to fail in the ways a real hub and network do.
 */
final class FakeHub implements AutoCloseable {
  /** One request as the fake saw it. */
  record Request(String server, String method, String path, String authorization, String range) {}

  private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");

  private final HttpServer hub;
  private final HttpServer cdn;
  private final Map<String, Map<String, String>> refs = new HashMap<>();
  private final Map<String, Map<String, byte[]>> files = new HashMap<>();
  private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());

  /** A token the hub requires for every repo, or null for public repos. */
  volatile String requiredToken;

  /** Serve only this many bytes of the next CDN response, then drop the connection. */
  final AtomicInteger truncateNextCdnResponseAt = new AtomicInteger(-1);

  /** Answer this many of the next hub requests with 503. */
  final AtomicInteger failNextHubRequests = new AtomicInteger();

  /** The Retry-After header sent with those 503s, or null. */
  volatile String retryAfterSeconds;

  /** Serve these bytes instead of the blob with this sha256 (a corrupting CDN). */
  final Map<String, byte[]> corruptBlobs = new ConcurrentHashMap<>();

  /** Requests under this path prefix get a relative redirect to {@link #renamedTo} (a rename). */
  volatile String renamedFrom;

  volatile String renamedTo;

  FakeHub() throws IOException {
    InetAddress lo = InetAddress.getLoopbackAddress();
    hub = HttpServer.create(new InetSocketAddress(lo, 0), 0);
    cdn = HttpServer.create(new InetSocketAddress(lo, 0), 0);
    hub.createContext("/", this::handleHub);
    cdn.createContext("/", this::handleCdn);
    hub.start();
    cdn.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + hub.getAddress().getPort();
  }

  /** Adds a commit to a repo and points {@code branch} at it. */
  FakeHub commit(String repo, String branch, String commit, Map<String, byte[]> content) {
    refs.computeIfAbsent(repo, r -> new HashMap<>()).put(branch, commit);
    refs.get(repo).put(commit, commit);
    files.put(repo + "@" + commit, new HashMap<>(content));
    return this;
  }

  List<Request> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** Requests that transferred file bytes (GETs on either server). */
  List<Request> fileGets() {
    return requests().stream().filter(r -> r.method().equals("GET")).toList();
  }

  void clearRequests() {
    requests.clear();
  }

  static boolean isLfs(String file) {
    return file.endsWith(".safetensors");
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha1(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(data));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void handleHub(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getRawPath();
      record(ex, "hub");
      if (failNextHubRequests.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        if (retryAfterSeconds != null) {
          ex.getResponseHeaders().set("Retry-After", retryAfterSeconds);
        }
        send(ex, 503, new byte[0]);
        return;
      }
      if (renamedFrom != null && path.startsWith(renamedFrom)) {
        ex.getResponseHeaders().set("Location", renamedTo + path.substring(renamedFrom.length()));
        send(ex, 301, new byte[0]);
        return;
      }
      Matcher m = RESOLVE.matcher(path);
      if (!m.matches()) {
        send(ex, 404, new byte[0]);
        return;
      }
      String repo = m.group(1);
      String revision = URLDecoder.decode(m.group(2), StandardCharsets.UTF_8);
      String file = m.group(3);
      if (requiredToken != null) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null || !auth.equals("Bearer " + requiredToken)) {
          // The hub answers 401 for private repos so as not to reveal that they exist.
          ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
          send(ex, 401, "{\"error\":\"Invalid credentials in Authorization header\"}".getBytes());
          return;
        }
      }
      Map<String, String> repoRefs = refs.get(repo);
      if (repoRefs == null) {
        ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
        send(ex, 404, new byte[0]);
        return;
      }
      String commit = repoRefs.get(revision);
      if (commit == null) {
        ex.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
        send(ex, 404, new byte[0]);
        return;
      }
      byte[] data = files.get(repo + "@" + commit).get(file);
      ex.getResponseHeaders().set("X-Repo-Commit", commit);
      if (data == null) {
        ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
        send(ex, 404, new byte[0]);
        return;
      }
      if (isLfs(file)) {
        String sha = sha256(data);
        blobs.put(sha, data);
        ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
        ex.getResponseHeaders().set("X-Linked-Size", Long.toString(data.length));
        ex.getResponseHeaders().set("ETag", "\"" + sha1(data) + "\"");
        ex.getResponseHeaders()
            .set(
                "Location",
                "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + sha + "?sig=x");
        send(ex, 302, new byte[0]);
        return;
      }
      ex.getResponseHeaders().set("ETag", "\"" + sha1(data) + "\"");
      send(ex, 200, data);
    }
  }

  private void handleCdn(HttpExchange ex) throws IOException {
    try (ex) {
      record(ex, "cdn");
      String path = ex.getRequestURI().getRawPath();
      if (!path.startsWith("/blobs/")) {
        send(ex, 404, new byte[0]);
        return;
      }
      String sha = path.substring("/blobs/".length());
      byte[] data = corruptBlobs.getOrDefault(sha, blobs.get(sha));
      if (data == null) {
        send(ex, 404, new byte[0]);
        return;
      }
      int from = 0;
      String range = ex.getRequestHeaders().getFirst("Range");
      int status = 200;
      if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
        from = Integer.parseInt(range.substring(6, range.length() - 1));
        if (from >= data.length) {
          send(ex, 416, new byte[0]);
          return;
        }
        status = 206;
        ex.getResponseHeaders()
            .set("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
      }
      int length = data.length - from;
      int cut = truncateNextCdnResponseAt.getAndSet(-1);
      if (ex.getRequestMethod().equals("HEAD")) {
        ex.getResponseHeaders().set("Content-Length", Integer.toString(length));
        ex.sendResponseHeaders(status, -1);
        return;
      }
      ex.sendResponseHeaders(status, length);
      OutputStream out = ex.getResponseBody();
      if (cut >= 0 && cut < length) {
        out.write(data, from, cut);
        out.flush();
        // Closing short of the announced length drops the connection mid-body.
        return;
      }
      out.write(data, from, length);
    } catch (IOException expected) {
      // The truncated response ends with the server noticing the missing bytes.
    }
  }

  private void record(HttpExchange ex, String server) {
    requests.add(
        new Request(
            server,
            ex.getRequestMethod(),
            ex.getRequestURI().getRawPath(),
            ex.getRequestHeaders().getFirst("Authorization"),
            ex.getRequestHeaders().getFirst("Range")));
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    if (ex.getRequestMethod().equals("HEAD")) {
      if (status < 300 || status >= 400) {
        ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
      }
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  @Override
  public void close() {
    hub.stop(0);
    cdn.stop(0);
  }
}
