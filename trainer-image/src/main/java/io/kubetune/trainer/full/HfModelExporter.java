package io.kubetune.trainer.full;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsCheckpoint;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link LlamaModel}'s current weights as a Hugging Face model folder that {@code
 * AutoModelForCausalLM.from_pretrained} loads: {@code config.json}, {@code model.safetensors} (or
 * {@code model-0000i-of-0000n.safetensors} shards with {@code model.safetensors.index.json} when
 * the weights exceed the shard size, as {@code save_pretrained(max_shard_size=...)} does), and the
 * tokenizer files copied from the source folder.
 *
 * <pre>{@code
 * HfModelExporter.builder().setSource(baseDir).optDtype(DType.F16).build().export(model, outDir);
 * }</pre>
 */
public final class HfModelExporter {

  /** Shard limit of transformers' {@code save_pretrained} default (5 GB). */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  /** Files copied from the source folder when present: tokenizer and generation settings. */
  public static final List<String> COPIED_FILES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "tokenizer.model",
          "chat_template.jinja",
          "generation_config.json");

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path source;
  private final DType dtype;
  private final long maxShardBytes;

  private HfModelExporter(Builder b) {
    this.source = b.source;
    this.dtype = b.dtype;
    this.maxShardBytes = b.maxShardBytes;
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** What was written. */
  public record Exported(Path folder, List<Path> shards, long weightBytes, long parameters) {}

  /**
   * Writes the model folder; earlier weight files in {@code out} are removed first so a folder
   * never mixes two exports.
   *
   * @throws IOException when a file cannot be read or written
   */
  public Exported export(LlamaModel model, Path out) throws IOException {
    Files.createDirectories(out);
    removeOldWeights(out);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    long parameters = 0;
    for (String name : model.weightNames()) {
      NDArray w = model.weight(name);
      tensors.put(name, w);
      parameters += w.getShape().size();
    }
    List<Map<String, NDArray>> shards = shard(tensors);
    List<Path> files = new ArrayList<>();
    long total = 0;
    ObjectNode index = JSON.createObjectNode();
    ObjectNode weightMap = JSON.createObjectNode();
    for (int i = 0; i < shards.size(); i++) {
      String file =
          shards.size() == 1
              ? SafetensorsCheckpoint.SINGLE_FILE
              : String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
      SafetensorsWriter writer = new SafetensorsWriter();
      for (Map.Entry<String, NDArray> e : shards.get(i).entrySet()) {
        writer.add(e.getKey(), e.getValue(), dtype);
        weightMap.put(e.getKey(), file);
        total += bytes(e.getValue());
      }
      Path path = out.resolve(file);
      writer.write(path);
      files.add(path);
    }
    if (shards.size() > 1) {
      index.putObject("metadata").put("total_size", total);
      index.set("weight_map", weightMap);
      JSON.writeValue(out.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile(), index);
    }
    writeConfig(model.config(), out);
    if (source != null && !Files.isSameFile(source, out)) {
      for (String name : COPIED_FILES) {
        Path from = source.resolve(name);
        if (Files.isRegularFile(from)) {
          Files.copy(from, out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return new Exported(out, files, total, parameters);
  }

  private long bytes(NDArray a) {
    return a.getShape().size() * dtype.byteSize();
  }

  /** Greedy in checkpoint order, as transformers' {@code split_torch_state_dict_into_shards}. */
  private List<Map<String, NDArray>> shard(Map<String, NDArray> tensors) {
    List<Map<String, NDArray>> shards = new ArrayList<>();
    Map<String, NDArray> current = new LinkedHashMap<>();
    long size = 0;
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      long b = bytes(e.getValue());
      if (!current.isEmpty() && size + b > maxShardBytes) {
        shards.add(current);
        current = new LinkedHashMap<>();
        size = 0;
      }
      current.put(e.getKey(), e.getValue());
      size += b;
    }
    shards.add(current);
    return shards;
  }

  /**
   * The source's {@code config.json} with the stored dtype updated (keeps fields we do not model,
   * such as {@code architectures}); a minimal Llama config when there is no source.
   */
  private void writeConfig(LlamaConfig c, Path out) throws IOException {
    ObjectNode config;
    Path sourceConfig = source == null ? null : source.resolve(LlamaConfig.FILE);
    if (sourceConfig != null && Files.isRegularFile(sourceConfig)) {
      JsonNode read = JSON.readTree(sourceConfig.toFile());
      if (!(read instanceof ObjectNode o)) {
        throw new IOException(sourceConfig + ": not a JSON object");
      }
      config = o;
    } else {
      config = LlamaConfigs.toJson(c);
    }
    config.remove("dtype");
    config.put("torch_dtype", dtype == DType.F16 ? "float16" : "float32");
    JSON.writeValue(out.resolve(LlamaConfig.FILE).toFile(), config);
  }

  private static void removeOldWeights(Path out) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(out, "model*.safetensors*")) {
      for (Path f : files) {
        Files.delete(f);
      }
    }
  }

  /** Builder for {@link HfModelExporter}. */
  public static final class Builder {
    private Path source;
    private DType dtype = DType.F32;
    private long maxShardBytes = DEFAULT_MAX_SHARD_BYTES;

    private Builder() {}

    /** The model folder the weights came from (its config.json and tokenizer files are kept). */
    public Builder setSource(Path source) {
      this.source = source;
      return this;
    }

    /** Stored dtype, {@link DType#F32} (default) or {@link DType#F16}. */
    public Builder optDtype(DType dtype) {
      if (dtype != DType.F32 && dtype != DType.F16) {
        throw new IllegalArgumentException(
            "export dtype must be F32 or F16 (bf16 is not supported by the trainer), got " + dtype);
      }
      this.dtype = dtype;
      return this;
    }

    /** Largest shard in bytes; a model above it is split into several files with an index. */
    public Builder optMaxShardBytes(long maxShardBytes) {
      if (maxShardBytes <= 0) {
        throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
      }
      this.maxShardBytes = maxShardBytes;
      return this;
    }

    /** Builds the exporter. */
    public HfModelExporter build() {
      return new HfModelExporter(this);
    }
  }
}
