package io.kubetune.trainer.full;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.ModelConfigException;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsCheckpoint;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Writes a freshly initialised Llama model folder: the starting point of pre-training.
 *
 * <p>Initialisation follows transformers' {@code LlamaPreTrainedModel._init_weights}: every
 * projection and the embedding drawn from {@code N(0, initializerRange)}, every RMSNorm weight 1.
 */
public final class RandomLlama {

  private RandomLlama() {}

  /**
   * Writes {@code config.json} and {@code model.safetensors} (f32) for {@code config} into {@code
   * out}.
   *
   * @param initializerRange standard deviation of the weights (transformers' default 0.02)
   * @param seed seed of the weights
   */
  public static void write(LlamaConfig config, double initializerRange, long seed, Path out)
      throws IOException {
    Files.createDirectories(out);
    Random random = new Random(seed);
    int h = config.hiddenSize();
    int q = config.numAttentionHeads() * config.headDim();
    int kv = config.numKeyValueHeads() * config.headDim();
    int ff = config.intermediateSize();
    SafetensorsWriter w = new SafetensorsWriter();
    normal(w, "model.embed_tokens.weight", random, initializerRange, config.vocabSize(), h);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      String p = "model.layers." + i + ".";
      ones(w, p + "input_layernorm.weight", h);
      ones(w, p + "post_attention_layernorm.weight", h);
      normal(w, p + "self_attn.q_proj.weight", random, initializerRange, q, h);
      normal(w, p + "self_attn.k_proj.weight", random, initializerRange, kv, h);
      normal(w, p + "self_attn.v_proj.weight", random, initializerRange, kv, h);
      normal(w, p + "self_attn.o_proj.weight", random, initializerRange, h, q);
      normal(w, p + "mlp.gate_proj.weight", random, initializerRange, ff, h);
      normal(w, p + "mlp.up_proj.weight", random, initializerRange, ff, h);
      normal(w, p + "mlp.down_proj.weight", random, initializerRange, h, ff);
    }
    ones(w, "model.norm.weight", h);
    if (!config.tieWordEmbeddings()) {
      normal(w, "lm_head.weight", random, initializerRange, config.vocabSize(), h);
    }
    w.write(out.resolve(SafetensorsCheckpoint.SINGLE_FILE));
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve(LlamaConfig.FILE).toFile(), LlamaConfigs.toJson(config));
    try {
      LlamaConfig.load(out);
    } catch (ModelConfigException e) {
      throw new IllegalArgumentException(
          "the model configuration is invalid: " + e.getMessage(), e);
    }
  }

  private static void normal(
      SafetensorsWriter w, String name, Random random, double std, int rows, int cols) {
    float[] data = new float[rows * cols];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) (random.nextGaussian() * std);
    }
    w.add(name, new long[] {rows, cols}, data, DType.F32);
  }

  private static void ones(SafetensorsWriter w, String name, int size) {
    float[] data = new float[size];
    Arrays.fill(data, 1f);
    w.add(name, new long[] {size}, data, DType.F32);
  }
}
