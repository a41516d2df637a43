package io.kubetune.trainer.model;

import java.util.Set;

/**
 * How {@link Generator} picks tokens.
 *
 * @param maxNewTokens upper bound on generated tokens
 * @param doSample false for greedy decoding (argmax); true to sample
 * @param temperature divisor of the logits before sampling (> 0)
 * @param topP nucleus size in (0, 1]; 1 keeps every token
 * @param seed seed of the sampler, so a run is reproducible
 * @param eosTokenIds generation stops after emitting one of these (null: {@link
 *     LlamaModel#stopTokenIds()})
 */
public record GenerationConfig(
    int maxNewTokens,
    boolean doSample,
    float temperature,
    float topP,
    long seed,
    Set<Integer> eosTokenIds) {

  /** Validates the values. */
  public GenerationConfig {
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
    }
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }
    eosTokenIds = eosTokenIds == null ? null : Set.copyOf(eosTokenIds);
  }

  /** Greedy decoding of up to {@code maxNewTokens}, stopping at the model's EOS. */
  public static GenerationConfig greedy(int maxNewTokens) {
    return new GenerationConfig(maxNewTokens, false, 1f, 1f, 0, null);
  }

  /** Seeded sampling with temperature and nucleus (top-p) filtering. */
  public static GenerationConfig sampling(
      int maxNewTokens, float temperature, float topP, long seed) {
    return new GenerationConfig(maxNewTokens, true, temperature, topP, seed, null);
  }

  /** The same settings with other stop tokens. */
  public GenerationConfig withEosTokenIds(Set<Integer> ids) {
    return new GenerationConfig(maxNewTokens, doSample, temperature, topP, seed, ids);
  }
}
