package io.kubetune.trainer.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The weights of a Hugging Face model folder: a single {@code model.safetensors} or shards listed
 * by {@code model.safetensors.index.json}, seen as one name → tensor map.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {

  /** File name of an unsharded checkpoint. */
  public static final String SINGLE_FILE = "model.safetensors";

  /** File name of the shard index. */
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private final Path location;
  private final Map<String, SafetensorsFile> byTensor;
  private final List<SafetensorsFile> files;

  private SafetensorsCheckpoint(
      Path location, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> files) {
    this.location = location;
    this.byTensor = byTensor;
    this.files = files;
  }

  /**
   * Opens a model folder (preferring the shard index when present), a single {@code .safetensors}
   * file, or an index file.
   *
   * @throws SafetensorsException when no weights are found or a file is corrupt; the message names
   *     the file and what to fix
   */
  public static SafetensorsCheckpoint open(Path location) throws SafetensorsException {
    if (Files.isDirectory(location)) {
      Path index = location.resolve(INDEX_FILE);
      if (Files.isRegularFile(index)) {
        return openIndex(index);
      }
      Path single = location.resolve(SINGLE_FILE);
      if (Files.isRegularFile(single)) {
        return openFiles(location, List.of(single));
      }
      throw new SafetensorsException(
          location
              + ": no "
              + SINGLE_FILE
              + " or "
              + INDEX_FILE
              + " (only safetensors weights are supported; convert .bin/.pth checkpoints first)");
    }
    if (location.getFileName() != null && location.getFileName().toString().endsWith(".json")) {
      return openIndex(location);
    }
    return openFiles(location, List.of(location));
  }

  private static SafetensorsCheckpoint openIndex(Path index) throws SafetensorsException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(index.toFile());
    } catch (IOException e) {
      throw new SafetensorsException(index + ": cannot parse shard index: " + e.getMessage(), e);
    }
    JsonNode weightMap = root == null ? null : root.get("weight_map");
    if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
      throw new SafetensorsException(
          index + ": field 'weight_map' is missing or empty; it must map tensor names to shards");
    }
    Path dir = index.toAbsolutePath().getParent();
    Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
    Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
        String shardName = e.getValue().asText();
        Path shard = dir.resolve(shardName).normalize();
        if (!shard.startsWith(dir) || shardName.isEmpty()) {
          throw new SafetensorsException(
              index + ": weight_map entry '" + e.getKey() + "' points outside the model folder");
        }
        SafetensorsFile file = opened.get(shardName);
        if (file == null) {
          if (!Files.isRegularFile(shard)) {
            throw new SafetensorsException(
                index
                    + ": shard "
                    + shardName
                    + " (holding '"
                    + e.getKey()
                    + "') is missing; download all shards listed in the index");
          }
          file = SafetensorsFile.open(shard);
          opened.put(shardName, file);
        }
        if (!file.contains(e.getKey())) {
          throw new SafetensorsException(
              index
                  + ": weight_map says '"
                  + e.getKey()
                  + "' is in "
                  + shardName
                  + ", but that shard has no such tensor");
        }
        byTensor.put(e.getKey(), file);
      }
    } catch (SafetensorsException e) {
      opened.values().forEach(SafetensorsCheckpoint::closeQuietly);
      throw e;
    }
    return new SafetensorsCheckpoint(
        index, Collections.unmodifiableMap(byTensor), List.copyOf(opened.values()));
  }

  private static SafetensorsCheckpoint openFiles(Path location, List<Path> paths)
      throws SafetensorsException {
    List<SafetensorsFile> files = new ArrayList<>();
    Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    for (Path p : paths) {
      SafetensorsFile f = SafetensorsFile.open(p);
      files.add(f);
      for (String name : f.tensors().keySet()) {
        byTensor.put(name, f);
      }
    }
    return new SafetensorsCheckpoint(location, Collections.unmodifiableMap(byTensor), files);
  }

  /** The folder, file or index this checkpoint was opened from. */
  public Path location() {
    return location;
  }

  /** All tensor names, sorted. */
  public Set<String> names() {
    return Collections.unmodifiableSet(new TreeSet<>(byTensor.keySet()));
  }

  /** Whether the checkpoint has a tensor of this name. */
  public boolean contains(String name) {
    return byTensor.containsKey(name);
  }

  /** The header entry of a tensor. */
  public TensorInfo info(String name) throws SafetensorsException {
    return file(name).info(name);
  }

  /** Reads a floating-point tensor widened to f32, row-major. */
  public float[] readFloats(String name) throws SafetensorsException {
    return file(name).readFloats(name);
  }

  /** Loads a floating-point tensor as an f32 array owned by {@code manager}. */
  public NDArray loadFloat32(NDManager manager, String name) throws SafetensorsException {
    return file(name).loadFloat32(manager, name);
  }

  private SafetensorsFile file(String name) throws SafetensorsException {
    SafetensorsFile f = byTensor.get(name);
    if (f == null) {
      throw new SafetensorsException(location + ": no tensor named '" + name + "'");
    }
    return f;
  }

  private static void closeQuietly(SafetensorsFile f) {
    try {
      f.close();
    } catch (IOException ignored) {
      // Closing a read-only channel; nothing to recover.
    }
  }

  @Override
  public void close() {
    files.forEach(SafetensorsCheckpoint::closeQuietly);
  }
}
