package io.kubetune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.kubetune.contract.TrainerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds trainer configs as a user writes them: starts from a valid config whose files exist in a
 * temp folder, then sets or removes fields by dotted path.
 */
final class ConfigFixture {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final ObjectNode root;

  private ConfigFixture(Path dir, ObjectNode root) {
    this.dir = dir;
    this.root = root;
  }

  /** A valid LoRA training config; the dataset and model folder exist under {@code dir}. */
  static ConfigFixture valid(Path dir) {
    try {
      Path model = Files.createDirectories(dir.resolve("model"));
      Files.writeString(model.resolve("config.json"), "{}");
      Files.writeString(model.resolve("tokenizer.json"), "{}");
      Files.writeString(model.resolve("model.safetensors"), "");
      Path train = dir.resolve("train.jsonl");
      Files.writeString(train, "{\"prompt\":\"2+2=\",\"completion\":\"4\"}\n");
      ObjectNode root = JSON.createObjectNode();
      root.put("jobName", "llama-chat");
      root.put("namespace", "team-a");
      root.putObject("baseModel").put("uri", model.toString());
      ObjectNode ds = root.putObject("dataset");
      ds.put("train", train.toString());
      ds.put("validationSplit", 0.1);
      ds.put("format", "auto");
      ds.put("minExamples", 1);
      ds.put("onError", "Fail");
      ObjectNode m = root.putObject("method");
      m.put("type", "lora");
      m.put("rank", 8);
      m.put("alpha", 16.0);
      m.put("dropout", 0.05);
      m.putArray("targetModules").add("q_proj").add("v_proj");
      ObjectNode h = root.putObject("hyperparameters");
      h.put("epochs", 3.0);
      h.put("batchSize", 4);
      h.put("learningRate", 2e-4);
      h.put("lrScheduler", "cosine");
      h.put("warmupRatio", 0.03);
      h.put("maxSeqLength", 512);
      h.put("seed", 42);
      ObjectNode out = root.putObject("output");
      out.put("adapterDir", dir.resolve("adapter").toString());
      out.put("checkpointDir", dir.resolve("checkpoints").toString());
      ObjectNode ck = root.putObject("checkpointing");
      ck.put("everySteps", 50);
      ck.put("keepLast", 2);
      ck.put("resume", "Auto");
      root.putObject("progress").put("minIntervalSeconds", 5);
      return new ConfigFixture(dir, root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sets a field; {@code value} may be a String, Number, Boolean or JsonNode. */
  ConfigFixture set(String path, Object value) {
    String[] parts = path.split("\\.");
    ObjectNode node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode child = node.get(parts[i]);
      node = child instanceof ObjectNode ? (ObjectNode) child : node.putObject(parts[i]);
    }
    node.set(parts[parts.length - 1], JSON.valueToTree(value));
    return this;
  }

  /** Removes a field. */
  ConfigFixture remove(String path) {
    String[] parts = path.split("\\.");
    JsonNode node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      node = node.get(parts[i]);
    }
    ((ObjectNode) node).remove(parts[parts.length - 1]);
    return this;
  }

  String json() {
    return root.toPrettyString();
  }

  String yaml() {
    try {
      return new YAMLMapper().writeValueAsString(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the config as JSON and returns its path. */
  Path writeJson(String name) {
    return write(name, json());
  }

  /** Writes the config as YAML and returns its path. */
  Path writeYaml(String name) {
    return write(name, yaml());
  }

  Path write(String name, String text) {
    try {
      return Files.writeString(dir.resolve(name), text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  TrainerConfig load() {
    return ConfigLoader.parse(json(), false, "test");
  }

  Path dir() {
    return dir;
  }
}
