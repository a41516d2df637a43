package io.kubetune.trainer.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.TrainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSourceTest {
  private static final String TOKEN = "hf_fromTheSecret42";

  @TempDir Path dir;

  private static String error(Runnable r) {
    return assertThrows(ModelSourceException.class, r::run).getMessage();
  }

  private static TrainerConfig.BaseModel local(Path p) {
    return new TrainerConfig.BaseModel(p.toString(), null, null, null);
  }

  @Test
  void localFolderIsUsedInPlaceWhenComplete() throws IOException {
    Path model = Files.createDirectories(dir.resolve("model"));
    Files.writeString(model.resolve("config.json"), "{}");
    Files.writeString(model.resolve("tokenizer.json"), "{}");
    ModelSource source = new ModelSource(Map.of(), b -> b);

    assertEquals(model, source.resolve(local(model), HubClient.Scope.TOKENIZER_ONLY));
    String missing = error(() -> source.resolve(local(model), HubClient.Scope.ALL));
    assertTrue(
        missing.contains("lacks model.safetensors (or model.safetensors.index.json)"), missing);

    Files.writeString(model.resolve("model.safetensors.index.json"), "{}");
    assertEquals(
        model,
        source.resolve(
            new TrainerConfig.BaseModel("file://" + model, null, null, null), HubClient.Scope.ALL));
  }

  @Test
  void badLocationsSayWhatToDo() {
    ModelSource source = new ModelSource(Map.of(), b -> b);
    assertTrue(
        error(() -> source.resolve(local(dir.resolve("absent")), HubClient.Scope.ALL))
            .contains("does not exist or is not a folder"));
    assertTrue(
        error(
                () ->
                    source.resolve(
                        new TrainerConfig.BaseModel("pvc://models/llama", null, null, null),
                        HubClient.Scope.ALL))
            .contains("must be mounted"));
    assertTrue(
        error(
                () ->
                    source.resolve(
                        new TrainerConfig.BaseModel("hf://org/m@v1", "v2", null, null),
                        HubClient.Scope.ALL))
            .contains("contradicts"));
    assertTrue(
        error(
                () ->
                    source.resolve(
                        new TrainerConfig.BaseModel(" ", null, null, null), HubClient.Scope.ALL))
            .contains("baseModel.uri is empty"));
  }

  @Test
  void hubModelUsesEndpointRevisionAndTokenFromTheEnvironment() throws IOException {
    try (FakeHub hub = new FakeHub()) {
      hub.commit("org/private", "v2", "c".repeat(40), HubClientTest.model(1, false));
      hub.requiredToken = TOKEN;
      ModelSource source =
          new ModelSource(
              Map.of(ModelSource.HF_ENDPOINT_ENV, hub.endpoint(), "MY_TOKEN", TOKEN),
              b -> b.optSleeper(d -> {}));

      Path got =
          source.resolve(
              new TrainerConfig.BaseModel(
                  "hf://org/private", "v2", "MY_TOKEN", dir.resolve("cache").toString()),
              HubClient.Scope.ALL);

      assertTrue(got.startsWith(dir.resolve("cache")));
      assertTrue(Files.isRegularFile(got.resolve("model.safetensors")));
      assertTrue(hub.requests().get(0).path().equals("/org/private/resolve/v2/config.json"));

      String unset =
          error(
              () ->
                  source.resolve(
                      new TrainerConfig.BaseModel("hf://org/private", null, "ABSENT", null),
                      HubClient.Scope.ALL));
      assertTrue(unset.contains("environment variable ABSENT"), unset);
      assertFalse(unset.contains(TOKEN));
    }
  }

  @Test
  void hubReferencesAreParsed() {
    assertEquals(
        new HfRepoRef("meta-llama/Llama-3.2-1B", null),
        HfRepoRef.parse("hf://meta-llama/Llama-3.2-1B"));
    assertEquals(new HfRepoRef("org/m", "refs/pr/1"), HfRepoRef.parse("hf://org/m@refs/pr/1"));
    assertTrue(error(() -> HfRepoRef.parse("hf://org/m@")).contains("empty revision"));
    assertTrue(
        error(() -> HfRepoRef.parse("hf://org/.hidden")).contains("invalid repository name"));
    assertTrue(error(() -> HfRepoRef.parse("hf://a/b/c")).contains("hf://org/name"));
  }
}
