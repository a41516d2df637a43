package io.kubetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a Hugging Face {@code config.json} that define a Llama-family decoder.
 *
 * <p>Reads both the transformers 4 layout ({@code rope_theta} + {@code rope_scaling}) and the
 * transformers 5 layout ({@code rope_parameters}). {@code mistral} and {@code qwen2} configs are
 * accepted only when their math is identical to Llama's (no sliding-window attention); anything
 * else is refused with the field to change.
 *
 * @param modelType {@code model_type}
 * @param vocabSize {@code vocab_size}
 * @param hiddenSize {@code hidden_size}
 * @param intermediateSize {@code intermediate_size}
 * @param numHiddenLayers {@code num_hidden_layers}
 * @param numAttentionHeads {@code num_attention_heads}
 * @param numKeyValueHeads {@code num_key_value_heads} (defaults to the attention heads)
 * @param headDim {@code head_dim} (defaults to hidden size / heads)
 * @param rmsNormEps {@code rms_norm_eps}
 * @param ropeTheta base of the rotary frequencies
 * @param ropeScaling scaling of the rotary frequencies; never null ({@code default} type when none)
 * @param tieWordEmbeddings whether {@code lm_head} reuses the input embedding
 * @param maxPositionEmbeddings {@code max_position_embeddings}
 * @param bosTokenId {@code bos_token_id}, or null
 * @param eosTokenIds {@code eos_token_id} as a list (empty when absent)
 * @param padTokenId {@code pad_token_id}, or null
 * @param attentionBias whether q/k/v/o projections have biases
 * @param qkvBias whether q/k/v have biases while o does not (Qwen2)
 * @param mlpBias whether gate/up/down projections have biases
 * @param torchDtype stored weight dtype ({@code torch_dtype} or {@code dtype}), or null
 */
public record LlamaConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    boolean tieWordEmbeddings,
    int maxPositionEmbeddings,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    Integer padTokenId,
    boolean attentionBias,
    boolean qkvBias,
    boolean mlpBias,
    String torchDtype) {

  /** File name of the configuration inside a model folder. */
  public static final String FILE = "config.json";

  /**
   * How rotary frequencies are rescaled for long contexts.
   *
   * @param type {@code default}, {@code linear} or {@code llama3}
   * @param factor divisor of the frequencies (1 for {@code default})
   * @param lowFreqFactor llama3 {@code low_freq_factor}
   * @param highFreqFactor llama3 {@code high_freq_factor}
   * @param originalMaxPositionEmbeddings llama3 {@code original_max_position_embeddings}
   */
  public record RopeScaling(
      String type,
      double factor,
      double lowFreqFactor,
      double highFreqFactor,
      int originalMaxPositionEmbeddings) {

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);
  }

  /** Creates a config; the eos list is copied. */
  public LlamaConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** Number of query heads sharing one key/value head. */
  public int kvGroups() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /** Reads {@code config.json} from a model folder (or the file itself). */
  public static LlamaConfig load(Path folderOrFile) throws ModelConfigException {
    Path file = Files.isDirectory(folderOrFile) ? folderOrFile.resolve(FILE) : folderOrFile;
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new ModelConfigException(file + ": not found; a model folder needs a config.json", e);
    } catch (IOException e) {
      throw new ModelConfigException(file + ": not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelConfigException(file + ": must be a JSON object");
    }
    return parse(root, file.toString());
  }

  /**
   * Parses a config document.
   *
   * @param source file name used in error messages
   */
  public static LlamaConfig parse(JsonNode root, String source) throws ModelConfigException {
    Fields f = new Fields(root, source);
    String modelType = f.string("model_type", "llama");
    boolean qkvBias = false;
    switch (modelType) {
      case "llama" -> {}
      case "mistral" -> f.requireNoSlidingWindow("sliding_window");
      case "qwen2" -> {
        if (root.path("use_sliding_window").asBoolean(false)) {
          throw f.error("use_sliding_window", "sliding-window attention is not supported");
        }
        qkvBias = true;
      }
      default ->
          throw f.error(
              "model_type",
              "'"
                  + modelType
                  + "' is not supported; use a Llama-family model (llama, or mistral/qwen2"
                  + " without sliding window)");
    }
    String act = f.string("hidden_act", "silu");
    if (!act.equals("silu")) {
      throw f.error("hidden_act", "'" + act + "' is not supported; Llama models use silu");
    }
    int hidden = f.positiveInt("hidden_size", null);
    int heads = f.positiveInt("num_attention_heads", null);
    int kvHeads = f.positiveInt("num_key_value_heads", heads);
    if (heads % kvHeads != 0) {
      throw f.error(
          "num_key_value_heads",
          kvHeads + " does not divide num_attention_heads " + heads + " (grouped-query attention)");
    }
    Integer derivedHeadDim = hidden % heads == 0 ? hidden / heads : null;
    int headDim = f.positiveInt("head_dim", derivedHeadDim);
    if (headDim % 2 != 0) {
      throw f.error("head_dim", headDim + " must be even for rotary embeddings");
    }
    int maxPos = f.positiveInt("max_position_embeddings", 2048);

    JsonNode params = root.get("rope_parameters");
    String paramsField = "rope_parameters";
    if (params == null || params.isNull()) {
      params = root.get("rope_scaling");
      paramsField = "rope_scaling";
    }
    if (params != null && !params.isNull() && !params.isObject()) {
      throw f.error(paramsField, "must be an object or null");
    }
    double theta = root.path("rope_theta").asDouble(10000.0);
    if (params != null && params.has("rope_theta")) {
      theta = params.get("rope_theta").asDouble();
    }
    if (!(theta > 0)) {
      throw f.error("rope_theta", "must be positive");
    }
    double partial =
        params != null && params.has("partial_rotary_factor")
            ? params.get("partial_rotary_factor").asDouble()
            : root.path("partial_rotary_factor").asDouble(1.0);
    if (partial != 1.0) {
      throw f.error("partial_rotary_factor", partial + " is not supported (only 1.0)");
    }
    RopeScaling scaling = parseScaling(f, params, paramsField, maxPos);

    List<Integer> eos = new ArrayList<>();
    JsonNode eosNode = root.get("eos_token_id");
    if (eosNode != null && eosNode.isArray()) {
      eosNode.forEach(n -> eos.add(n.asInt()));
    } else if (eosNode != null && eosNode.isIntegralNumber()) {
      eos.add(eosNode.asInt());
    } else if (eosNode != null && !eosNode.isNull()) {
      throw f.error("eos_token_id", "must be an integer or a list of integers");
    }
    String dtype = f.string("torch_dtype", null);
    if (dtype == null) {
      dtype = f.string("dtype", null);
    }
    return new LlamaConfig(
        modelType,
        f.positiveInt("vocab_size", null),
        hidden,
        f.positiveInt("intermediate_size", null),
        f.positiveInt("num_hidden_layers", null),
        heads,
        kvHeads,
        headDim,
        root.path("rms_norm_eps").asDouble(1e-6),
        theta,
        scaling,
        root.path("tie_word_embeddings").asBoolean(false),
        maxPos,
        f.optionalInt("bos_token_id"),
        eos,
        f.optionalInt("pad_token_id"),
        root.path("attention_bias").asBoolean(false),
        qkvBias,
        root.path("mlp_bias").asBoolean(false),
        dtype);
  }

  private static RopeScaling parseScaling(Fields f, JsonNode params, String field, int maxPos)
      throws ModelConfigException {
    if (params == null || params.isNull()) {
      return RopeScaling.NONE;
    }
    String type = params.path("rope_type").asText(params.path("type").asText("default"));
    switch (type) {
      case "default":
        return RopeScaling.NONE;
      case "linear":
        return new RopeScaling("linear", f.positiveDouble(params, field, "factor"), 0, 0, 0);
      case "llama3":
        double low = f.positiveDouble(params, field, "low_freq_factor");
        double high = f.positiveDouble(params, field, "high_freq_factor");
        if (!(high > low)) {
          throw f.error(field + ".high_freq_factor", "must be greater than low_freq_factor");
        }
        return new RopeScaling(
            "llama3",
            f.positiveDouble(params, field, "factor"),
            low,
            high,
            params.path("original_max_position_embeddings").asInt(maxPos));
      default:
        throw f.error(
            field + ".rope_type",
            "'" + type + "' is not supported; supported rope scaling types: linear, llama3");
    }
  }

  /** Typed access to config fields with errors that name the file and field. */
  private record Fields(JsonNode root, String source) {

    ModelConfigException error(String field, String what) {
      return new ModelConfigException(source + ": field '" + field + "': " + what);
    }

    String string(String field, String dflt) throws ModelConfigException {
      JsonNode n = root.get(field);
      if (n == null || n.isNull()) {
        return dflt;
      }
      if (!n.isTextual()) {
        throw error(field, "must be a string");
      }
      return n.asText();
    }

    int positiveInt(String field, Integer dflt) throws ModelConfigException {
      JsonNode n = root.get(field);
      if (n == null || n.isNull()) {
        if (dflt == null) {
          throw error(field, "is required");
        }
        return dflt;
      }
      if (!n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > Integer.MAX_VALUE) {
        throw error(field, "must be a positive integer, got " + n);
      }
      return n.asInt();
    }

    Integer optionalInt(String field) throws ModelConfigException {
      JsonNode n = root.get(field);
      if (n == null || n.isNull()) {
        return null;
      }
      if (n.isArray() && n.size() > 0 && n.get(0).isIntegralNumber()) {
        return n.get(0).asInt();
      }
      if (!n.isIntegralNumber()) {
        throw error(field, "must be an integer");
      }
      return n.asInt();
    }

    double positiveDouble(JsonNode obj, String parent, String field) throws ModelConfigException {
      JsonNode n = obj.get(field);
      if (n == null || !n.isNumber() || !(n.asDouble() > 0)) {
        throw error(parent + "." + field, "must be a positive number");
      }
      return n.asDouble();
    }

    void requireNoSlidingWindow(String field) throws ModelConfigException {
      JsonNode n = root.get(field);
      if (n != null && !n.isNull()) {
        throw error(
            field,
            n
                + ": sliding-window attention is not supported; use a model with"
                + " sliding_window: null");
      }
    }
  }
}
