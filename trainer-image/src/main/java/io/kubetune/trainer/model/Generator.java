package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

/**
 * Autoregressive text generation with a KV cache: the prompt is run once, then one token per step.
 *
 * <p>Sampling follows transformers' order (temperature, then top-p) with a seeded Java RNG, so runs
 * are reproducible but not token-identical to PyTorch's sampler; greedy decoding is identical.
 */
public final class Generator {

  private Generator() {}

  /**
   * Generates a continuation of {@code prompt}.
   *
   * @return the new token ids, ending with the EOS token when one was produced
   */
  public static int[] generate(LlamaModel model, int[] prompt, GenerationConfig config) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("prompt must hold at least one token (e.g. BOS)");
    }
    Set<Integer> eos = config.eosTokenIds() != null ? config.eosTokenIds() : model.stopTokenIds();
    Random random = new Random(config.seed());
    int[] out = new int[config.maxNewTokens()];
    int produced = 0;
    try (NDManager manager = model.manager().newSubManager();
        KvCache cache = model.newCache(manager)) {
      int[] step = prompt;
      while (produced < config.maxNewTokens()) {
        int next;
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          NDArray ids = manager.create(step, new Shape(1, step.length));
          NDArray logits = model.forward(ids, null, cache);
          float[] last = logits.get(0, step.length - 1).toFloatArray();
          next = config.doSample() ? sample(last, config, random) : argmax(last);
        }
        out[produced++] = next;
        if (eos.contains(next)) {
          break;
        }
        step = new int[] {next};
      }
    }
    return Arrays.copyOf(out, produced);
  }

  /** Index of the largest logit; the first one on ties, as {@code torch.argmax}. */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Samples from softmax(logits / temperature) restricted to the top-p nucleus. */
  static int sample(float[] logits, GenerationConfig config, Random random) {
    int n = logits.length;
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l / config.temperature());
    }
    double[] probs = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      probs[i] = Math.exp(logits[i] / config.temperature() - max);
      sum += probs[i];
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      probs[i] /= sum;
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
    // Keep the most likely tokens until their mass reaches top-p (always at least one).
    int keep = 0;
    double mass = 0;
    while (keep < n && (keep == 0 || mass < config.topP())) {
      mass += probs[order[keep]];
      keep++;
    }
    double u = random.nextDouble() * mass;
    double acc = 0;
    for (int i = 0; i < keep; i++) {
      acc += probs[order[i]];
      if (u < acc) {
        return order[i];
      }
    }
    return order[keep - 1];
  }
}
