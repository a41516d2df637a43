package io.kubetune.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  private static String firstProblem(Runnable r) {
    ConfigException e = assertThrows(ConfigException.class, r::run);
    return e.problems().get(0).toString();
  }

  @Test
  void yamlAndJsonGiveTheSameConfig() {
    ConfigFixture f = ConfigFixture.valid(dir);

    TrainerConfig fromJson = ConfigLoader.load(f.writeJson("job.json"));
    TrainerConfig fromYaml = ConfigLoader.load(f.writeYaml("job.yaml"));
    TrainerConfig fromYml = ConfigLoader.load(f.write("job.yml", f.yaml()));

    assertEquals(fromJson, fromYaml);
    assertEquals(fromJson, fromYml);
    assertEquals(8, fromYaml.method().rank());
    assertEquals(List.of("q_proj", "v_proj"), fromYaml.method().targetModules());
    assertEquals(2e-4, fromYaml.hyperparameters().learningRate());
  }

  @Test
  void aMountedConfigMapFolderIsReadThroughItsKey() throws IOException {
    ConfigFixture f = ConfigFixture.valid(dir);
    Path mount = Files.createDirectories(dir.resolve("config"));
    Files.writeString(mount.resolve(Contract.CONFIG_KEY), f.json());

    assertEquals(f.load(), ConfigLoader.load(mount));
  }

  @Test
  void unknownFieldIsNamedWithItsSectionAndASuggestion() {
    ConfigFixture f = ConfigFixture.valid(dir).set("hyperparameters.epocs", 3);

    String p = firstProblem(() -> ConfigLoader.load(f.writeYaml("job.yaml")));

    assertTrue(p.contains("unknown field 'epocs' in hyperparameters"), p);
    assertTrue(p.contains("did you mean 'epochs'?"), p);
    assertTrue(p.startsWith("hyperparameters.epocs: "), p);
  }

  @Test
  void unknownTopLevelField() {
    String p = firstProblem(() -> ConfigFixture.valid(dir).set("hyperparams", 1).load());
    assertTrue(p.contains("unknown field 'hyperparams' in the config"), p);
    assertTrue(p.contains("did you mean 'hyperparameters'?"), p);
  }

  @Test
  void valuesJacksonWouldCoerceAreRejected() {
    String fraction = firstProblem(() -> ConfigFixture.valid(dir).set("method.rank", 8.5).load());
    assertEquals(
        "method.rank: expected a whole number, got number 8.5; write a whole number", fraction);

    String quoted =
        firstProblem(() -> ConfigFixture.valid(dir).set("hyperparameters.batchSize", "4").load());
    assertTrue(quoted.startsWith("hyperparameters.batchSize: expected a whole number"), quoted);

    String notString = firstProblem(() -> ConfigFixture.valid(dir).set("dataset.format", 5).load());
    assertTrue(notString.startsWith("dataset.format: expected a string"), notString);

    String listItem =
        firstProblem(
            () ->
                ConfigFixture.valid(dir).set("method.targetModules", List.of("q_proj", 3)).load());
    assertTrue(listItem.startsWith("method.targetModules[1]: expected a string"), listItem);
  }

  @Test
  void wrongTypeNamesTheField() {
    String p =
        firstProblem(
            () -> ConfigFixture.valid(dir).set("hyperparameters.learningRate", "fast").load());
    assertTrue(p.startsWith("hyperparameters.learningRate: expected a number"), p);

    String obj = firstProblem(() -> ConfigFixture.valid(dir).set("method", "lora").load());
    assertTrue(obj.startsWith("method: "), obj);
  }

  @Test
  void autoMeansDeriveTheValue() {
    TrainerConfig c =
        ConfigFixture.valid(dir)
            .set("hyperparameters.learningRate", "auto")
            .set("hyperparameters.batchSize", "AUTO")
            .load();
    assertNull(c.hyperparameters().learningRate());
    assertNull(c.hyperparameters().batchSize());
    assertEquals(512, c.hyperparameters().maxSeqLength());
  }

  @Test
  void fileProblemsNameTheFile() throws IOException {
    String missing = firstProblem(() -> ConfigLoader.load(dir.resolve("nope.yaml")));
    assertTrue(missing.startsWith("--config: file "), missing);
    assertTrue(missing.contains("nope.yaml does not exist"), missing);

    Path empty = Files.writeString(dir.resolve("empty.json"), "  \n");
    assertTrue(firstProblem(() -> ConfigLoader.load(empty)).contains("is empty"));

    Path list = Files.writeString(dir.resolve("list.yaml"), "- a\n- b\n");
    assertTrue(firstProblem(() -> ConfigLoader.load(list)).contains("holds a list, not an object"));

    Path broken =
        Files.writeString(dir.resolve("broken.json"), "{\n  \"jobName\": \"x\",\n  oops\n}");
    String syntax = firstProblem(() -> ConfigLoader.load(broken));
    assertTrue(syntax.contains("is not valid JSON at line 3"), syntax);

    Path twoDocs = Files.writeString(dir.resolve("two.yaml"), "jobName: a\n---\njobName: b\n");
    assertTrue(firstProblem(() -> ConfigLoader.load(twoDocs)).contains("more than one document"));

    Path badYaml = Files.writeString(dir.resolve("bad.yaml"), "jobName: [a\nnamespace: b\n");
    assertTrue(
        firstProblem(() -> ConfigLoader.load(badYaml)).contains("is not valid YAML at line"));
  }
}
