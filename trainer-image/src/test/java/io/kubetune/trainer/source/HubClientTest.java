package io.kubetune.trainer.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.trainer.report.LogCapture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {
  private static final String REPO = "meta-llama/Tiny-Llama";
  private static final String COMMIT_A = "a".repeat(40);
  private static final String COMMIT_B = "b".repeat(40);
  private static final String TOKEN = "hf_secretTOKEN123";

  @TempDir Path cache;
  private FakeHub hub;
  private final List<Duration> sleeps = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  private HubClient client(String token) {
    return HubClient.builder()
        .setCacheDir(cache)
        .optEndpoint(hub.endpoint())
        .optToken(token)
        .optMaxAttempts(3)
        .optSleeper(sleeps::add)
        .build();
  }

  static Map<String, byte[]> model(long seed, boolean sharded) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("config.json", ("{\"model_type\":\"llama\",\"seed\":" + seed + "}").getBytes());
    files.put("tokenizer.json", "{\"version\":\"1.0\"}".getBytes());
    files.put("tokenizer_config.json", "{\"bos_token\":\"<s>\"}".getBytes());
    files.put("generation_config.json", "{\"do_sample\":false}".getBytes());
    if (sharded) {
      files.put("model-00001-of-00002.safetensors", random(seed + 1, 70_000));
      files.put("model-00002-of-00002.safetensors", random(seed + 2, 50_000));
      files.put(
          "model.safetensors.index.json",
          ("{\"metadata\":{\"total_size\":120000},\"weight_map\":{"
                  + "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
                  + "\"model.layers.0.mlp.up_proj.weight\":\"model-00001-of-00002.safetensors\","
                  + "\"lm_head.weight\":\"model-00002-of-00002.safetensors\"}}")
              .getBytes());
    } else {
      files.put("model.safetensors", random(seed, 200_000));
    }
    return files;
  }

  static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void assertSameFiles(Map<String, byte[]> expected, Path dir) throws IOException {
    for (var e : expected.entrySet()) {
      Path f = dir.resolve(e.getKey());
      assertTrue(Files.isRegularFile(f), "missing " + e.getKey());
      assertArrayEquals(e.getValue(), Files.readAllBytes(f), e.getKey());
    }
  }

  @Test
  void downloadsEveryFileALlamaNeedsAndToleratesMissingOptionalOnes() throws IOException {
    Map<String, byte[]> files = model(1, false);
    hub.commit(REPO, "main", COMMIT_A, files);

    Path dir = client(null).download(REPO, null, HubClient.Scope.ALL);

    assertSameFiles(files, dir);
    assertFalse(Files.exists(dir.resolve("special_tokens_map.json")));
    assertEquals(cache.resolve("models--meta-llama--Tiny-Llama/snapshots/" + COMMIT_A), dir);
    assertEquals(
        COMMIT_A,
        Files.readString(cache.resolve("models--meta-llama--Tiny-Llama/refs/main")).strip());
    try (var s = Files.walk(cache)) {
      assertTrue(s.noneMatch(p -> p.toString().endsWith(".incomplete")));
    }
  }

  @Test
  void secondRunDownloadsNothing() throws IOException {
    hub.commit(REPO, "main", COMMIT_A, model(1, false));
    Path first = client(null).download(REPO, "main", HubClient.Scope.ALL);
    hub.clearRequests();

    Path second = client(null).download(REPO, "main", HubClient.Scope.ALL);

    assertEquals(first, second);
    assertEquals(List.of(), hub.fileGets(), "no file may be downloaded twice");
    // Only the branch is resolved again; pinning a commit needs no request at all.
    hub.clearRequests();
    client(null).download(REPO, COMMIT_A, HubClient.Scope.ALL);
    assertEquals(List.of(), hub.requests());
  }

  @Test
  void cachedSnapshotServesWhenTheHubIsUnreachable() throws IOException {
    hub.commit(REPO, "main", COMMIT_A, model(1, false));
    Path first = client(null).download(REPO, "main", HubClient.Scope.ALL);
    hub.failNextHubRequests.set(100);

    Path offline = client(null).download(REPO, "main", HubClient.Scope.ALL);

    assertEquals(first, offline);
  }

  @Test
  void interruptedDownloadResumesWithRange() throws IOException {
    Map<String, byte[]> files = model(2, false);
    hub.commit(REPO, "main", COMMIT_A, files);
    hub.truncateNextCdnResponseAt.set(80_000);

    Path dir = client(null).download(REPO, "main", HubClient.Scope.ALL);

    assertSameFiles(files, dir);
    List<FakeHub.Request> cdnGets =
        hub.fileGets().stream().filter(r -> r.server().equals("cdn")).toList();
    assertEquals(2, cdnGets.size(), "the dropped transfer is retried once");
    assertNull(cdnGets.get(0).range());
    assertNotNull(cdnGets.get(1).range(), "the retry must resume, not start over");
    assertTrue(cdnGets.get(1).range().matches("bytes=[1-9][0-9]*-"), cdnGets.get(1).range());
    assertEquals(1, sleeps.size(), "one backoff before the retry");
  }

  @Test
  void partialFileFromAnEarlierRunIsResumed() throws IOException {
    Map<String, byte[]> files = model(3, false);
    hub.commit(REPO, "main", COMMIT_A, files);
    byte[] weights = files.get("model.safetensors");
    Path partial =
        cache.resolve(
            "models--meta-llama--Tiny-Llama/partial/" + COMMIT_A + "/model.safetensors.incomplete");
    Files.createDirectories(partial.getParent());
    Files.write(partial, Arrays.copyOf(weights, 123_456));

    Path dir = client(null).download(REPO, "main", HubClient.Scope.ALL);

    assertSameFiles(files, dir);
    List<FakeHub.Request> cdnGets =
        hub.fileGets().stream().filter(r -> r.server().equals("cdn")).toList();
    assertEquals(1, cdnGets.size());
    assertEquals("bytes=123456-", cdnGets.get(0).range());
  }

  @Test
  void stopRequestInterruptsTheDownloadAndTheNextRunResumesIt() throws IOException {
    Map<String, byte[]> files = model(18, false);
    hub.commit(REPO, "main", COMMIT_A, files);
    Path partial =
        cache.resolve(
            "models--meta-llama--Tiny-Llama/partial/" + COMMIT_A + "/model.safetensors.incomplete");
    HubClient stopping =
        HubClient.builder()
            .setCacheDir(cache)
            .optEndpoint(hub.endpoint())
            .optSleeper(sleeps::add)
            // SIGTERM arrives once the weights have started to download.
            .optCancelled(() -> Files.exists(partial) && partial.toFile().length() > 0)
            .build();

    assertThrows(
        CancellationException.class, () -> stopping.download(REPO, "main", HubClient.Scope.ALL));

    long kept = Files.size(partial);
    assertTrue(kept > 0 && kept < files.get("model.safetensors").length, "kept " + kept);
    hub.clearRequests();
    Path dir = client(null).download(REPO, "main", HubClient.Scope.ALL);
    assertSameFiles(files, dir);
    assertEquals(
        List.of("bytes=" + kept + "-"),
        hub.fileGets().stream()
            .filter(r -> r.server().equals("cdn"))
            .map(FakeHub.Request::range)
            .toList());
  }

  @Test
  void corruptDownloadIsRejectedAndDeleted() throws IOException {
    Map<String, byte[]> files = model(4, false);
    hub.commit(REPO, "main", COMMIT_A, files);
    byte[] bad = files.get("model.safetensors").clone();
    bad[1000] ^= 1;
    hub.corruptBlobs.put(FakeHub.sha256(files.get("model.safetensors")), bad);

    ModelSourceException e =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download(REPO, "main", HubClient.Scope.ALL));

    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    assertTrue(e.getMessage().contains("sha256"), e.getMessage());
    try (var s = Files.walk(cache)) {
      assertTrue(
          s.map(p -> p.getFileName().toString())
              .noneMatch(
                  n -> n.equals("model.safetensors") || n.equals("model.safetensors.incomplete")),
          "neither the corrupt file nor its partial may stay in the cache");
    }
  }

  @Test
  void missingTokenGivesAClearErrorAndTheTokenIsUsedWhenGiven() throws IOException {
    hub.commit(REPO, "main", COMMIT_A, model(5, false));
    hub.requiredToken = TOKEN;

    ModelSourceException e =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download(REPO, "main", HubClient.Scope.ALL));
    assertTrue(
        e.getMessage().contains("repo " + REPO + " needs a token: set spec.baseModel.secretRef"),
        e.getMessage());

    try (LogCapture log = new LogCapture()) {
      ModelSourceException wrong =
          assertThrows(
              ModelSourceException.class,
              () -> client("hf_wrongToken999").download(REPO, "main", HubClient.Scope.ALL));
      assertTrue(wrong.getMessage().contains("needs a token"), wrong.getMessage());
      assertFalse(wrong.getMessage().contains("hf_wrongToken999"), "token leaked into the error");

      Path dir = client(TOKEN).download(REPO, "main", HubClient.Scope.ALL);
      assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
      assertTrue(log.text().contains("downloading model.safetensors"), "logs are captured");
      assertFalse(log.text().contains("hf_wrongToken999"), "token leaked into the log");
      assertFalse(log.text().contains(TOKEN), "token leaked into the log");
    }
  }

  @Test
  void redirectToTheCdnDoesNotCarryTheToken() throws IOException {
    hub.commit(REPO, "main", COMMIT_A, model(6, false));
    hub.requiredToken = TOKEN;

    client(TOKEN).download(REPO, "main", HubClient.Scope.ALL);

    List<FakeHub.Request> hubRequests =
        hub.requests().stream().filter(r -> r.server().equals("hub")).toList();
    List<FakeHub.Request> cdnRequests =
        hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
    assertFalse(cdnRequests.isEmpty(), "LFS files come from the CDN");
    assertTrue(hubRequests.stream().allMatch(r -> ("Bearer " + TOKEN).equals(r.authorization())));
    assertTrue(
        cdnRequests.stream().allMatch(r -> r.authorization() == null),
        "the CDN must never receive the Authorization header");
  }

  @Test
  void notFoundErrorsNameTheRepoRevisionOrFile() {
    hub.commit(REPO, "main", COMMIT_A, model(7, false));

    ModelSourceException repo =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download("nobody/nothing", "main", HubClient.Scope.ALL));
    assertTrue(repo.getMessage().contains("repo nobody/nothing not found"), repo.getMessage());

    ModelSourceException rev =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download(REPO, "v9", HubClient.Scope.ALL));
    assertTrue(rev.getMessage().contains("revision v9 not found in repo " + REPO));

    Map<String, byte[]> noTokenizer = model(8, false);
    noTokenizer.remove("tokenizer.json");
    hub.commit("org/broken", "main", COMMIT_B, noTokenizer);
    ModelSourceException file =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download("org/broken", "main", HubClient.Scope.ALL));
    assertTrue(file.getMessage().contains("tokenizer.json not found in repo org/broken"));

    Map<String, byte[]> noWeights = model(9, false);
    noWeights.remove("model.safetensors");
    hub.commit("org/noweights", "main", COMMIT_B, noWeights);
    ModelSourceException weights =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download("org/noweights", "main", HubClient.Scope.ALL));
    assertTrue(weights.getMessage().contains("model.safetensors"), weights.getMessage());
  }

  @Test
  void revisionSelectsItsOwnCommit() throws IOException {
    Map<String, byte[]> v1 = model(10, false);
    Map<String, byte[]> v2 = model(11, false);
    hub.commit(REPO, "v1.0", COMMIT_A, v1);
    hub.commit(REPO, "main", COMMIT_B, v2);

    Path old = client(null).download(REPO, "v1.0", HubClient.Scope.ALL);
    Path current = client(null).download(REPO, null, HubClient.Scope.ALL);

    assertTrue(old.endsWith(COMMIT_A));
    assertTrue(current.endsWith(COMMIT_B));
    assertSameFiles(v1, old);
    assertSameFiles(v2, current);
    // Files after config.json are requested at the resolved commit, not the moving tag.
    assertTrue(
        hub.requests().stream()
            .filter(r -> r.path().endsWith("/tokenizer.json"))
            .allMatch(
                r ->
                    r.path().contains("/resolve/" + COMMIT_A + "/")
                        || r.path().contains("/resolve/" + COMMIT_B + "/")));
  }

  @Test
  void revisionWithSlashIsEncoded() throws IOException {
    Map<String, byte[]> pr = model(12, false);
    hub.commit(REPO, "refs/pr/1", COMMIT_A, pr);

    Path dir = client(null).download(REPO, "refs/pr/1", HubClient.Scope.ALL);

    assertSameFiles(pr, dir);
    assertTrue(hub.requests().get(0).path().contains("/resolve/refs%2Fpr%2F1/config.json"));
  }

  @Test
  void shardedCheckpointDownloadsIndexAndEveryShard() throws IOException {
    Map<String, byte[]> files = model(13, true);
    hub.commit(REPO, "main", COMMIT_A, files);

    Path dir = client(null).download(REPO, "main", HubClient.Scope.ALL);

    assertSameFiles(files, dir);
    assertEquals(
        1,
        hub.fileGets().stream()
            .filter(r -> r.server().equals("cdn"))
            .filter(
                r ->
                    r.path()
                        .endsWith(FakeHub.sha256(files.get("model-00001-of-00002.safetensors"))))
            .count(),
        "a shard named by several tensors is downloaded once");
  }

  @Test
  void shardNamesThatEscapeTheFolderAreRefused(@TempDir Path tmp) throws IOException {
    Path index = tmp.resolve("model.safetensors.index.json");
    Files.writeString(
        index, "{\"weight_map\":{\"a\":\"../../etc/passwd\"}}", StandardCharsets.UTF_8);

    ModelSourceException e =
        assertThrows(ModelSourceException.class, () -> HubClient.shardNames("o/r", index));
    assertTrue(e.getMessage().contains("invalid shard file"), e.getMessage());
  }

  @Test
  void serverErrorsAreRetriedWithBackoffThenGiveUp() throws IOException {
    Map<String, byte[]> files = model(14, false);
    hub.commit(REPO, "main", COMMIT_A, files);
    hub.failNextHubRequests.set(2);

    Path dir = client(null).download(REPO, "main", HubClient.Scope.ALL);
    assertSameFiles(files, dir);
    assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), sleeps);

    hub.failNextHubRequests.set(100);
    ModelSourceException e =
        assertThrows(
            ModelSourceException.class,
            () -> client(null).download("org/other", "main", HubClient.Scope.ALL));
    assertTrue(e.getMessage().contains("failed after 3 attempts"), e.getMessage());
  }

  @Test
  void retryAfterFromTheServerIsHonoured() throws IOException {
    hub.commit(REPO, "main", COMMIT_A, model(17, false));
    hub.failNextHubRequests.set(1);
    hub.retryAfterSeconds = "7";

    client(null).download(REPO, "main", HubClient.Scope.ALL);

    assertEquals(List.of(Duration.ofSeconds(7)), sleeps);
  }

  @Test
  void relativeRedirectOfARenamedRepoIsFollowedWithTheToken() throws IOException {
    Map<String, byte[]> files = model(15, false);
    hub.commit(REPO, "main", COMMIT_A, files);
    hub.requiredToken = TOKEN;
    hub.renamedFrom = "/old-org/tiny/";
    hub.renamedTo = "/meta-llama/Tiny-Llama/";

    Path dir = client(TOKEN).download("old-org/tiny", "main", HubClient.Scope.ALL);

    assertSameFiles(files, dir);
  }

  @Test
  void tokenizerOnlyScopeSkipsWeights() throws IOException {
    hub.commit(REPO, "main", COMMIT_A, model(16, false));

    Path dir = client(null).download(REPO, "main", HubClient.Scope.TOKENIZER_ONLY);

    assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
    assertFalse(Files.exists(dir.resolve("model.safetensors")));
    assertTrue(hub.fileGets().stream().noneMatch(r -> r.server().equals("cdn")));
  }
}
