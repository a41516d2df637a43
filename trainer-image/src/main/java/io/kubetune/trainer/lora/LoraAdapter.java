package io.kubetune.trainer.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.LlamaModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The LoRA adapters applied to one model: a {@link LoraLinear} per targeted projection, keyed by HF
 * module name in model order.
 */
public final class LoraAdapter {

  /** Prefix PEFT puts in front of module names in {@code adapter_model.safetensors}. */
  public static final String PEFT_PREFIX = "base_model.model.";

  private final LoraConfig config;
  private final Map<String, LoraLinear> layers;

  private LoraAdapter(LoraConfig config, Map<String, LoraLinear> layers) {
    this.config = config;
    this.layers = Collections.unmodifiableMap(layers);
  }

  /**
   * Wraps the targeted projections of a model with fresh LoRA adapters.
   *
   * <p>Call with a model's {@code linears()} and {@code replaceLinear}: {@code
   * LoraAdapter.apply(cfg, model.linears(), model::replaceLinear, manager, seed)}.
   *
   * @param config what to adapt
   * @param linears every linear projection of the model, by HF module name, in model order
   * @param replace replaces one projection of the model by a wrapper of it
   * @param manager owns the LoRA weights for the life of the adapter
   * @param seed seeds the initialisation of every {@code A} (each layer gets its own stream)
   * @return the adapters, in model order
   */
  public static LoraAdapter apply(
      LoraConfig config,
      Map<String, Linear> linears,
      BiConsumer<String, Function<Linear, Linear>> replace,
      NDManager manager,
      long seed) {
    List<String> targets = config.resolveTargets(linears.keySet());
    Map<String, LoraLinear> layers = new LinkedHashMap<>();
    long layerSeed = seed;
    for (String name : targets) {
      Linear base = linears.get(name);
      if (base instanceof LoraLinear) {
        throw new IllegalStateException(name + " already has a LoRA adapter");
      }
      // A fixed, name-independent stream per layer keeps initialisation reproducible.
      layerSeed = layerSeed * 6364136223846793005L + 1442695040888963407L;
      LoraLinear lora =
          LoraLinear.builder()
              .setBase(base)
              .setManager(manager)
              .setRank(config.rank())
              .optScale(config.scale())
              .optDropout(config.dropout())
              .optSeed(layerSeed)
              .build();
      layers.put(name, lora);
      replace.accept(name, ignored -> lora);
    }
    return new LoraAdapter(config, layers);
  }

  /**
   * Wraps the targeted projections of a Llama model with fresh LoRA adapters; the LoRA weights live
   * in {@code manager} (not in the model's weight manager, so the model stays the frozen base).
   */
  public static LoraAdapter apply(
      LoraConfig config, LlamaModel model, NDManager manager, long seed) {
    return apply(config, model.linears(), model::replaceLinear, manager, seed);
  }

  /** The config the adapters were built from. */
  public LoraConfig config() {
    return config;
  }

  /** The adapters by HF module name, in model order. */
  public Map<String, LoraLinear> layers() {
    return layers;
  }

  /** Every trainable array ({@code A} then {@code B} of each layer, in model order). */
  public List<NDArray> parameters() {
    List<NDArray> params = new ArrayList<>();
    for (LoraLinear l : layers.values()) {
      params.addAll(l.trainableParameters());
    }
    return params;
  }

  /** The trainable arrays by their PEFT tensor name. */
  public Map<String, NDArray> namedParameters() {
    Map<String, NDArray> named = new LinkedHashMap<>();
    for (Map.Entry<String, LoraLinear> e : layers.entrySet()) {
      named.put(PEFT_PREFIX + e.getKey() + ".lora_A.weight", e.getValue().loraA());
      named.put(PEFT_PREFIX + e.getKey() + ".lora_B.weight", e.getValue().loraB());
    }
    return named;
  }

  /** Number of trainable scalars. */
  public long parameterCount() {
    long n = 0;
    for (NDArray p : parameters()) {
      n += p.size();
    }
    return n;
  }

  /** Turns LoRA dropout on (training) or off (evaluation). */
  public void setTraining(boolean training) {
    for (LoraLinear l : layers.values()) {
      l.setTraining(training);
    }
  }
}
