package io.kubetune.trainer.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads the files of a Llama-family model from a Hugging Face hub through its file-resolve
 * protocol ({@code GET/HEAD {endpoint}/{repo}/resolve/{revision}/{file}}) into a cache laid out by
 * repository and commit, so that a second run downloads nothing.
 *
 * <p>What it guarantees: files land in the snapshot folder only complete and verified (size, and
 * sha256 for LFS files) through an atomic rename; an interrupted download resumes with an HTTP
 * {@code Range} request from its {@code .incomplete} file; all files of one download come from one
 * commit even when the branch moves meanwhile; the token is sent only to the hub's own origin,
 * never to the CDN a file redirects to, and never appears in logs or exception messages.
 *
 * <p>Cache layout under the cache dir: {@code models--org--name/snapshots/<commit>/<file>} (the
 * model folder handed to the loader), {@code models--org--name/refs/<revision>} (the commit a
 * branch or tag resolved to), {@code models--org--name/partial/<commit>/<file>.incomplete} and
 * {@code models--org--name/locks/<commit>/<file>.lock} (pods sharing the cache download each file
 * once).
 */
public final class HubClient {
  /** The public hub; {@code HF_ENDPOINT} overrides it. */
  public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

  /** Files every model needs. */
  static final List<String> REQUIRED_FILES =
      List.of("config.json", "tokenizer.json", "tokenizer_config.json");

  /** Files used when present. */
  static final List<String> OPTIONAL_FILES =
      List.of("generation_config.json", "special_tokens_map.json");

  static final String SINGLE_WEIGHTS = "model.safetensors";
  static final String WEIGHTS_INDEX = "model.safetensors.index.json";

  private static final Logger LOG = LoggerFactory.getLogger(HubClient.class);
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern SAFE_FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");
  private static final int MAX_REDIRECTS = 5;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Which files to fetch. */
  public enum Scope {
    /** Config, tokenizer and weights: what training and generation need. */
    ALL,
    /** Config and tokenizer only: what dataset validation needs. */
    TOKENIZER_ONLY
  }

  /** Waits between retries; tests pass one that does not sleep. */
  @FunctionalInterface
  public interface Sleeper {
    /** Waits for {@code duration}. */
    void sleep(Duration duration) throws InterruptedException;
  }

  private final URI endpoint;
  private final String token;
  private final Path cacheDir;
  private final HttpClient http;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Sleeper sleeper;
  private final BooleanSupplier cancelled;

  private HubClient(Builder b) {
    String e = b.endpoint == null ? DEFAULT_ENDPOINT : b.endpoint;
    this.endpoint = URI.create(e.endsWith("/") ? e.substring(0, e.length() - 1) : e);
    this.token = b.token == null || b.token.isBlank() ? null : b.token.strip();
    this.cacheDir = Objects.requireNonNull(b.cacheDir, "cacheDir");
    this.http =
        b.httpClient != null
            ? b.httpClient
            : HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.sleeper = b.sleeper;
    this.cancelled = b.cancelled;
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder of {@link HubClient}. */
  public static final class Builder {
    private String endpoint;
    private String token;
    private Path cacheDir;
    private HttpClient httpClient;
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private Sleeper sleeper = d -> Thread.sleep(d.toMillis());
    private BooleanSupplier cancelled = () -> false;

    private Builder() {}

    /** Sets the folder downloads are cached in (required). */
    public Builder setCacheDir(Path cacheDir) {
      this.cacheDir = cacheDir;
      return this;
    }

    /** Sets the hub endpoint, e.g. {@code https://huggingface.co}. */
    public Builder optEndpoint(String endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    /** Sets the bearer token for private or gated repositories. */
    public Builder optToken(String token) {
      this.token = token;
      return this;
    }

    /** Uses this HTTP client; it must not follow redirects by itself. */
    public Builder optHttpClient(HttpClient httpClient) {
      this.httpClient = httpClient;
      return this;
    }

    /** Sets how many times one request is tried before giving up (at least 1). */
    public Builder optMaxAttempts(int maxAttempts) {
      this.maxAttempts = Math.max(1, maxAttempts);
      return this;
    }

    /** Sets the first and the longest wait between retries; waits double in between. */
    public Builder optBackoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** Sets how retries wait. */
    public Builder optSleeper(Sleeper sleeper) {
      this.sleeper = sleeper;
      return this;
    }

    /**
     * Sets a check polled between files and while copying; when it turns true the download stops
     * with a {@link CancellationException}, keeping its {@code .incomplete} file for the next run.
     */
    public Builder optCancelled(BooleanSupplier cancelled) {
      this.cancelled = cancelled;
      return this;
    }

    /** Builds the client. */
    public HubClient build() {
      return new HubClient(this);
    }
  }

  /**
   * Downloads a model (or finds it in the cache) and returns its local folder.
   *
   * @param repo {@code org/name}
   * @param revision branch, tag or commit; null means {@code main}
   * @param scope which files to fetch
   * @throws ModelSourceException when the model cannot be downloaded; the message says why
   */
  public Path download(String repo, String revision, Scope scope) {
    String rev = revision == null || revision.isBlank() ? "main" : revision;
    Path repoDir = cacheDir.resolve("models--" + repo.replace("/", "--"));

    // A commit names immutable content: a complete snapshot needs no request at all.
    if (COMMIT.matcher(rev).matches()) {
      Path snapshot = repoDir.resolve("snapshots").resolve(rev);
      if (isComplete(snapshot, scope)) {
        LOG.info("using cached {} at commit {}", repo, rev);
        return snapshot;
      }
    }

    FileMeta configMeta;
    try {
      configMeta = head(repo, rev, "config.json", true).orElseThrow();
    } catch (TransientFailure e) {
      Optional<Path> cached = cachedSnapshot(repoDir, rev, scope);
      if (cached.isPresent()) {
        LOG.warn(
            "hub {} unreachable ({}); using the cached snapshot of {} at {}",
            endpoint,
            e.getMessage(),
            repo,
            rev);
        return cached.get();
      }
      throw new ModelSourceException(
          "cannot reach the hub at " + endpoint + " for repo " + repo + ": " + e.getMessage(), e);
    }
    String commit = configMeta.commit() != null ? configMeta.commit() : rev;
    Path snapshot = repoDir.resolve("snapshots").resolve(safeDirName(commit));
    Path partialDir = repoDir.resolve("partial").resolve(safeDirName(commit));
    Path marker = markerFile(snapshot, scope);
    if (isComplete(snapshot, scope)) {
      LOG.info("using cached {} at commit {}", repo, commit);
      writeRef(repoDir, rev, commit);
      return snapshot;
    }
    if (configMeta.commit() == null) {
      LOG.warn("hub sent no X-Repo-Commit for {}; caching under the revision name {}", repo, rev);
    }
    // Later files are requested at the commit so that a branch moving mid-download cannot mix
    // files of two commits.
    String pinned = configMeta.commit() != null ? configMeta.commit() : rev;

    if (configMeta.location().equals(resolveUri(repo, rev, "config.json"))) {
      configMeta = withLocation(configMeta, resolveUri(repo, pinned, "config.json"));
    }
    List<String> fetched = new ArrayList<>();
    fetch(repo, pinned, "config.json", configMeta, snapshot, partialDir);
    fetched.add("config.json");
    for (String file : REQUIRED_FILES) {
      if (!file.equals("config.json")) {
        FileMeta meta = head(repo, pinned, file, true).orElseThrow();
        fetch(repo, pinned, file, meta, snapshot, partialDir);
        fetched.add(file);
      }
    }
    for (String file : OPTIONAL_FILES) {
      Optional<FileMeta> meta = head(repo, pinned, file, false);
      if (meta.isPresent()) {
        fetch(repo, pinned, file, meta.get(), snapshot, partialDir);
        fetched.add(file);
      } else {
        LOG.debug("{} has no {}", repo, file);
      }
    }
    if (scope == Scope.ALL) {
      fetched.addAll(fetchWeights(repo, pinned, rev, snapshot, partialDir));
    }
    writeMarker(marker, fetched);
    writeRef(repoDir, rev, commit);
    deleteQuietly(partialDir);
    LOG.info("downloaded {} at commit {} into {}", repo, commit, snapshot);
    return snapshot;
  }

  private List<String> fetchWeights(
      String repo, String pinned, String rev, Path snapshot, Path partialDir) {
    Optional<FileMeta> single = head(repo, pinned, SINGLE_WEIGHTS, false);
    if (single.isPresent()) {
      fetch(repo, pinned, SINGLE_WEIGHTS, single.get(), snapshot, partialDir);
      return List.of(SINGLE_WEIGHTS);
    }
    Optional<FileMeta> index = head(repo, pinned, WEIGHTS_INDEX, false);
    if (index.isEmpty()) {
      throw new ModelSourceException(
          "repo "
              + repo
              + " at revision "
              + rev
              + " has neither "
              + SINGLE_WEIGHTS
              + " nor "
              + WEIGHTS_INDEX
              + "; only safetensors weights are supported, pick a repo or revision that has them");
    }
    fetch(repo, pinned, WEIGHTS_INDEX, index.get(), snapshot, partialDir);
    List<String> files = new ArrayList<>();
    files.add(WEIGHTS_INDEX);
    for (String shard : shardNames(repo, snapshot.resolve(WEIGHTS_INDEX))) {
      FileMeta meta = head(repo, pinned, shard, true).orElseThrow();
      fetch(repo, pinned, shard, meta, snapshot, partialDir);
      files.add(shard);
    }
    return files;
  }

  /** The distinct shard files named by an index's {@code weight_map}, sorted. */
  static List<String> shardNames(String repo, Path index) {
    JsonNode root;
    try {
      root = JSON.readTree(index.toFile());
    } catch (IOException e) {
      throw new ModelSourceException(
          WEIGHTS_INDEX + " of repo " + repo + " is not valid JSON: " + e.getMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new ModelSourceException(
          WEIGHTS_INDEX + " of repo " + repo + " has no weight_map; the checkpoint is incomplete");
    }
    TreeSet<String> shards = new TreeSet<>();
    for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
      JsonNode v = it.next();
      String name = v.asText();
      // Shard names become local paths: refuse anything that could escape the snapshot folder.
      if (!v.isTextual() || !SAFE_FILE.matcher(name).matches()) {
        throw new ModelSourceException(
            WEIGHTS_INDEX + " of repo " + repo + " names an invalid shard file '" + name + "'");
      }
      shards.add(name);
    }
    return List.copyOf(shards);
  }

  // ---------------------------------------------------------------- metadata

  /** What a HEAD request told about one file. */
  record FileMeta(String commit, String etag, long size, URI location, boolean lfs) {}

  private Optional<FileMeta> head(String repo, String rev, String file, boolean required) {
    URI uri = resolveUri(repo, rev, file);
    return withRetries(repo, file, () -> headOnce(repo, rev, file, uri, required));
  }

  private Optional<FileMeta> headOnce(
      String repo, String rev, String file, URI start, boolean required)
      throws IOException, InterruptedException {
    URI uri = start;
    // Metadata may sit on any hop: keep the first value seen of each header.
    String commit = null;
    String linkedEtag = null;
    long linkedSize = -1;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest request =
          request(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
      HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
      var h = response.headers();
      commit =
          commit != null ? commit : h.firstValue("X-Repo-Commit").map(String::strip).orElse(null);
      linkedEtag = linkedEtag != null ? linkedEtag : h.firstValue("X-Linked-Etag").orElse(null);
      if (linkedSize < 0) {
        linkedSize = h.firstValue("X-Linked-Size").map(HubClient::parseLong).orElse(-1L);
      }
      int status = response.statusCode();
      if (isRedirect(status)) {
        URI next = location(uri, response);
        // Like the Python hub client: redirects within the hub (a renamed repo, a cache path) are
        // followed; a redirect elsewhere is where an LFS file's bytes live, and this response
        // already carries its metadata.
        if (sameOrigin(next, uri)) {
          uri = next;
          continue;
        }
        return Optional.of(meta(commit, linkedEtag, linkedSize, h.firstValue("ETag"), -1, next));
      }
      if (status >= 200 && status < 300) {
        long contentLength = h.firstValueAsLong("Content-Length").orElse(-1);
        return Optional.of(
            meta(commit, linkedEtag, linkedSize, h.firstValue("ETag"), contentLength, uri));
      }
      if (status == 404 && !required) {
        return Optional.empty();
      }
      throw failure(status, response, repo, rev, file);
    }
    throw new ModelSourceException(
        "too many redirects resolving " + file + " of repo " + repo + " at revision " + rev);
  }

  private static FileMeta withLocation(FileMeta m, URI location) {
    return new FileMeta(m.commit(), m.etag(), m.size(), location, m.lfs());
  }

  private static FileMeta meta(
      String commit,
      String linkedEtag,
      long linkedSize,
      Optional<String> etagHeader,
      long contentLength,
      URI location) {
    String etag = normalizeEtag(linkedEtag != null ? linkedEtag : etagHeader.orElse(null));
    // A redirect's own Content-Length is the size of its body, so callers pass -1 for it.
    long size = linkedSize >= 0 ? linkedSize : contentLength;
    boolean lfs = linkedEtag != null || (etag != null && SHA256.matcher(etag).matches());
    return new FileMeta(commit, etag, size, location, lfs);
  }

  private static String normalizeEtag(String etag) {
    if (etag == null) {
      return null;
    }
    String e = etag.strip();
    if (e.startsWith("W/")) {
      e = e.substring(2);
    }
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    return e.toLowerCase(Locale.ROOT);
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  // ---------------------------------------------------------------- download

  private void fetch(
      String repo, String rev, String file, FileMeta meta, Path snapshot, Path partialDir) {
    checkCancelled(file);
    Path target = snapshot.resolve(file);
    try {
      if (Files.isRegularFile(target) && (meta.size() < 0 || Files.size(target) == meta.size())) {
        LOG.debug("{} of {} already cached", file, repo);
        return;
      }
      Files.createDirectories(partialDir);
      Files.createDirectories(snapshot);
    } catch (IOException e) {
      throw new ModelSourceException(
          "cannot write the model cache under " + snapshot + ": " + e.getMessage(), e);
    }
    Path partial = partialDir.resolve(file + ".incomplete");
    // The cache is shared (ReadWriteMany): two pods may fetch the same model at once. A lock per
    // file keeps them from writing the same .incomplete file; lock files are never deleted so that
    // both always lock the same file.
    Path lockDir = partialDir.getParent().resolveSibling("locks").resolve(partialDir.getFileName());
    try {
      Files.createDirectories(lockDir);
    } catch (IOException e) {
      throw new ModelSourceException(
          "cannot write the model cache under " + lockDir + ": " + e.getMessage(), e);
    }
    try (FileChannel lockChannel =
        FileChannel.open(
            lockDir.resolve(file + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      // Released when the channel closes.
      lockChannel.lock();
      if (Files.isRegularFile(target) && (meta.size() < 0 || Files.size(target) == meta.size())) {
        LOG.info("{} of {} was downloaded by another process meanwhile", file, repo);
        return;
      }
      LOG.info(
          "downloading {} of {} ({})",
          file,
          repo,
          meta.size() >= 0 ? humanSize(meta.size()) : "unknown size");
      withRetries(repo, file, () -> downloadOnce(repo, rev, file, meta, partial));
      verify(repo, file, meta, partial);
      try {
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new ModelSourceException(
          "cannot store " + file + " in the model cache " + snapshot + ": " + e.getMessage(), e);
    }
  }

  private Boolean downloadOnce(String repo, String rev, String file, FileMeta meta, Path partial)
      throws IOException, InterruptedException {
    long have = Files.exists(partial) ? Files.size(partial) : 0;
    if (meta.size() >= 0 && have > meta.size()) {
      Files.delete(partial);
      have = 0;
    }
    if (meta.size() >= 0 && have == meta.size() && have > 0) {
      return Boolean.TRUE;
    }
    URI uri = meta.location();
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder rb = request(uri).GET();
      if (have > 0) {
        rb.header("Range", "bytes=" + have + "-");
      }
      HttpResponse<InputStream> response =
          http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
      int status = response.statusCode();
      if (isRedirect(status)) {
        response.body().close();
        uri = location(uri, response);
        continue;
      }
      if (status == 416 && have > 0) {
        // The server has no bytes past ours: either the file is complete or ours is corrupt;
        // verification decides, and a corrupt file is deleted there.
        response.body().close();
        return Boolean.TRUE;
      }
      boolean append;
      if (status == 206) {
        String range = response.headers().firstValue("Content-Range").orElse("");
        append = range.startsWith("bytes " + have + "-");
        if (!append) {
          response.body().close();
          Files.deleteIfExists(partial);
          throw new TransientFailure("server answered a different range (" + range + ")");
        }
      } else if (status >= 200 && status < 300) {
        if (have > 0) {
          LOG.info("server ignored the resume request for {}; downloading it again", file);
        }
        append = false;
      } else {
        try (InputStream body = response.body()) {
          body.skip(Long.MAX_VALUE);
        } catch (IOException ignored) {
          // The body of an error response carries nothing we need.
        }
        throw failure(status, response, repo, rev, file);
      }
      if (append) {
        LOG.info("resuming {} at byte {}", file, have);
      }
      try (InputStream in = response.body();
          OutputStream out =
              Files.newOutputStream(
                  partial,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE,
                  append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          out.write(buf, 0, n);
          checkCancelled(file);
        }
      }
      return Boolean.TRUE;
    }
    throw new ModelSourceException("too many redirects downloading " + file + " of repo " + repo);
  }

  private void checkCancelled(String file) {
    if (cancelled.getAsBoolean()) {
      throw new CancellationException(
          "download stopped at " + file + "; the next run resumes it from the cache");
    }
  }

  private static void verify(String repo, String file, FileMeta meta, Path partial) {
    try {
      long size = Files.size(partial);
      if (meta.size() >= 0 && size != meta.size()) {
        Files.deleteIfExists(partial);
        throw new ModelSourceException(
            "downloaded "
                + file
                + " of repo "
                + repo
                + " has "
                + size
                + " bytes but the hub announced "
                + meta.size()
                + "; the download was deleted, run again to retry");
      }
      if (meta.lfs() && meta.etag() != null && SHA256.matcher(meta.etag()).matches()) {
        String actual = sha256(partial);
        if (!actual.equals(meta.etag())) {
          Files.deleteIfExists(partial);
          throw new ModelSourceException(
              "downloaded "
                  + file
                  + " of repo "
                  + repo
                  + " has sha256 "
                  + actual
                  + " but the hub announced "
                  + meta.etag()
                  + "; the corrupt download was deleted, run again to retry");
        }
      }
    } catch (IOException e) {
      throw new ModelSourceException("cannot verify " + file + ": " + e.getMessage(), e);
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        digest.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  // ---------------------------------------------------------------- HTTP helpers

  private URI resolveUri(String repo, String rev, String file) {
    // Revisions such as refs/pr/1 contain '/', which the hub expects percent-encoded.
    String encodedRev = URLEncoder.encode(rev, StandardCharsets.UTF_8).replace("+", "%20");
    return URI.create(endpoint + "/" + repo + "/resolve/" + encodedRev + "/" + file);
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(2))
            .header("User-Agent", "kubetune-trainer")
            .header("Accept-Encoding", "identity");
    // Only the hub itself gets the token: a CDN that a file redirects to must never see it.
    if (token != null && sameOrigin(uri, endpoint)) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  static boolean sameOrigin(URI a, URI b) {
    return Objects.equals(lower(a.getScheme()), lower(b.getScheme()))
        && Objects.equals(lower(a.getHost()), lower(b.getHost()))
        && port(a) == port(b);
  }

  private static String lower(String s) {
    return s == null ? null : s.toLowerCase(Locale.ROOT);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private static URI location(URI current, HttpResponse<?> response) {
    String loc =
        response
            .headers()
            .firstValue("Location")
            .orElseThrow(
                () -> new TransientFailure("redirect without a Location header from " + current));
    return current.resolve(loc);
  }

  private RuntimeException failure(
      int status, HttpResponse<?> response, String repo, String rev, String file) {
    String code = response.headers().firstValue("X-Error-Code").orElse("");
    if (status == 401 || status == 403) {
      String detail =
          token == null
              ? "no token was sent"
              : "the token was rejected or lacks access (gated models also need their licence"
                  + " accepted on the hub)";
      return new ModelSourceException(
          "repo "
              + repo
              + " needs a token: set spec.baseModel.secretRef (HTTP "
              + status
              + ", "
              + detail
              + ")");
    }
    if (status == 404) {
      switch (code) {
        case "RepoNotFound":
          return new ModelSourceException(
              "repo " + repo + " not found on " + endpoint + "; check spec.baseModel.uri");
        case "RevisionNotFound":
          return new ModelSourceException(
              "revision "
                  + rev
                  + " not found in repo "
                  + repo
                  + "; check spec.baseModel.revision or the @revision of the URI");
        case "EntryNotFound":
          return new ModelSourceException(
              "file " + file + " not found in repo " + repo + " at revision " + rev);
        default:
          return new ModelSourceException(
              "repo/revision/file not found: "
                  + repo
                  + " at revision "
                  + rev
                  + " has no "
                  + file
                  + " (HTTP 404); check spec.baseModel.uri and revision");
      }
    }
    if (status == 429 || status >= 500) {
      TransientFailure t = new TransientFailure("HTTP " + status + " for " + file);
      t.retryAfter =
          response
              .headers()
              .firstValue("Retry-After")
              .map(HubClient::parseLong)
              .filter(seconds -> seconds >= 0)
              .map(Duration::ofSeconds)
              .orElse(null);
      return t;
    }
    return new ModelSourceException(
        "unexpected HTTP " + status + " from the hub for " + file + " of repo " + repo);
  }

  /** One HTTP exchange, which may fail transiently. */
  @FunctionalInterface
  private interface Attempt<T> {
    T run() throws IOException, InterruptedException;
  }

  private <T> T withRetries(String repo, String file, Attempt<T> attempt) {
    Duration backoff = initialBackoff;
    for (int i = 1; ; i++) {
      String why;
      Exception cause;
      Duration wait = backoff;
      try {
        return attempt.run();
      } catch (TransientFailure e) {
        why = e.getMessage();
        cause = e;
        if (e.retryAfter != null) {
          // The server knows best when it can serve again, within reason.
          wait =
              e.retryAfter.compareTo(maxBackoff.multipliedBy(4)) > 0
                  ? maxBackoff.multipliedBy(4)
                  : e.retryAfter;
        }
      } catch (IOException e) {
        why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        cause = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ModelSourceException("download of " + file + " was interrupted", e);
      }
      if (i >= maxAttempts) {
        throw new TransientFailure(
            file + " of repo " + repo + " failed after " + i + " attempts: " + why, cause);
      }
      LOG.warn("{} of {}: {}; retry {} of {} in {}", file, repo, why, i, maxAttempts - 1, wait);
      try {
        sleeper.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ModelSourceException("download of " + file + " was interrupted", e);
      }
      backoff =
          backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
    }
  }

  /** A failure worth retrying (5xx, 429, connection reset); after the last retry it is final. */
  static final class TransientFailure extends ModelSourceException {
    private static final long serialVersionUID = 1L;

    /** The server's {@code Retry-After}, if it sent one. */
    transient Duration retryAfter;

    TransientFailure(String message) {
      super(message);
    }

    TransientFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  // ---------------------------------------------------------------- cache bookkeeping

  private static Path markerFile(Path snapshot, Scope scope) {
    return snapshot.resolve(scope == Scope.ALL ? ".kubetune-complete" : ".kubetune-tokenizer");
  }

  private static boolean isComplete(Path snapshot, Scope scope) {
    // A complete model also holds the tokenizer.
    return Files.isRegularFile(markerFile(snapshot, scope))
        || (scope == Scope.TOKENIZER_ONLY && Files.isRegularFile(markerFile(snapshot, Scope.ALL)));
  }

  private static Optional<Path> cachedSnapshot(Path repoDir, String rev, Scope scope) {
    Path ref = repoDir.resolve("refs").resolve(rev);
    try {
      String commit = Files.isRegularFile(ref) ? Files.readString(ref).strip() : rev;
      Path snapshot = repoDir.resolve("snapshots").resolve(safeDirName(commit));
      return isComplete(snapshot, scope) ? Optional.of(snapshot) : Optional.empty();
    } catch (IOException | ModelSourceException e) {
      return Optional.empty();
    }
  }

  private static void writeMarker(Path marker, List<String> files) {
    try {
      Files.write(marker, files, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ModelSourceException(
          "cannot write the model cache marker " + marker + ": " + e.getMessage(), e);
    }
  }

  private static void writeRef(Path repoDir, String rev, String commit) {
    if (rev.equals(commit)) {
      return;
    }
    try {
      Path ref = repoDir.resolve("refs").resolve(rev).normalize();
      if (!ref.startsWith(repoDir.resolve("refs"))) {
        return;
      }
      Files.createDirectories(ref.getParent());
      Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
      Files.writeString(tmp, commit);
      Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      // The ref only speeds up offline fallback; the snapshot itself is complete.
      LOG.debug("cannot record ref {} -> {}: {}", rev, commit, e.getMessage());
    }
  }

  private static String safeDirName(String commitOrRevision) {
    String s = commitOrRevision.replace('/', '_');
    if (s.isEmpty() || s.startsWith(".")) {
      throw new ModelSourceException("invalid revision '" + commitOrRevision + "'");
    }
    return s;
  }

  private static void deleteQuietly(Path dir) {
    try (var s = Files.list(dir)) {
      s.forEach(
          p -> {
            try {
              Files.deleteIfExists(p);
            } catch (IOException ignored) {
              // Leftovers in partial/ cost disk space only.
            }
          });
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // Same: nothing depends on partial/ being empty.
    }
  }

  private static String humanSize(long bytes) {
    if (bytes < 1024 * 1024) {
      return bytes + " B";
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
