package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.Linear;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A position-wise toy language model for loop tests that must not depend on the Llama model:
 * embedding, one residual MLP projection and an output head, all frozen.
 */
public final class ToyLm implements CausalLm {
  static final int VOCAB = 12;
  static final int DIM = 16;

  final NDArray embedding;
  public final Map<String, Linear> linears = new LinkedHashMap<>();

  public ToyLm(NDManager m, long seed) {
    Random r = new Random(seed);
    embedding = m.create(gaussian(r, VOCAB * DIM, 1), new Shape(VOCAB, DIM));
    linears.put("model.layers.0.mlp.up_proj", dense(m, r, DIM, DIM));
    linears.put("lm_head", dense(m, r, VOCAB, DIM));
  }

  public LoraAdapter applyLora(NDManager m, LoraConfig config, long seed) {
    return LoraAdapter.apply(
        config, linears, (n, f) -> linears.put(n, f.apply(linears.get(n))), m, seed);
  }

  @Override
  public NDArray logits(NDArray inputIds, NDArray attentionMask) {
    NDArray h = embedding.get(inputIds.toType(DataType.INT64, false));
    h = h.add(linears.get("model.layers.0.mlp.up_proj").forward(h).tanh());
    return linears.get("lm_head").forward(h);
  }

  public List<NDArray> frozenWeights() {
    return List.of(
        embedding,
        ((Dense) baseOf("model.layers.0.mlp.up_proj")).weight,
        ((Dense) baseOf("lm_head")).weight);
  }

  private Linear baseOf(String name) {
    Linear l = linears.get(name);
    return l instanceof io.kubetune.trainer.lora.LoraLinear lora ? lora.base() : l;
  }

  private static Dense dense(NDManager m, Random r, int out, int in) {
    return new Dense(m.create(gaussian(r, out * in, 1 / Math.sqrt(in)), new Shape(out, in)));
  }

  private static float[] gaussian(Random r, int n, double std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * std);
    }
    return v;
  }

  /** Task data: a prompt of random tokens followed by a completion that depends on each token. */
  public static List<TrainingExample> copyTask(int count, long seed) {
    Random r = new Random(seed);
    List<TrainingExample> out = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      int promptLen = 1 + r.nextInt(3);
      int completionLen = 3 + r.nextInt(4);
      int[] ids = new int[promptLen + completionLen];
      int[] labels = new int[ids.length];
      for (int t = 0; t < ids.length; t++) {
        // Completion tokens follow the rule next = (3 * prev + 1) mod VOCAB.
        ids[t] = t < promptLen || t == 0 ? 1 + r.nextInt(VOCAB - 1) : (3 * ids[t - 1] + 1) % VOCAB;
        labels[t] = t < promptLen ? TrainingExample.IGNORE_INDEX : ids[t];
      }
      out.add(new TrainingExample(ids, labels));
    }
    return out;
  }

  record Dense(NDArray weight) implements Linear {
    @Override
    public NDArray forward(NDArray x) {
      return ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow();
    }

    @Override
    public int inFeatures() {
      return (int) weight.getShape().get(1);
    }

    @Override
    public int outFeatures() {
      return (int) weight.getShape().get(0);
    }

    @Override
    public List<NDArray> trainableParameters() {
      return List.of();
    }
  }
}
