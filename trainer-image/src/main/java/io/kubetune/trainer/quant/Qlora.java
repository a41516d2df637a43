package io.kubetune.trainer.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.DenseLinear;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.LlamaModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QLoRA on a loaded Llama model: quantize the frozen projections to NF4, release their fp32
 * weights, then put fp32 LoRA adapters on top.
 *
 * <pre>{@code
 * Qlora qlora = Qlora.apply(model, loraConfig, Nf4Options.defaults(), manager, seed);
 * FineTuner.run(job.setParameters(qlora.adapter().parameters()) ...);
 * BaseWeightMemory mem = qlora.baseWeightMemory();
 * }</pre>
 */
public final class Qlora {

  private final LlamaModel model;
  private final LoraAdapter adapter;
  private final Map<String, Nf4Linear> quantized;
  private final Nf4Options options;

  private Qlora(
      LlamaModel model, LoraAdapter adapter, Map<String, Nf4Linear> quantized, Nf4Options opts) {
    this.model = model;
    this.adapter = adapter;
    this.quantized = Collections.unmodifiableMap(quantized);
    this.options = opts;
  }

  /**
   * Quantizes the model's base projections and wraps the LoRA targets.
   *
   * <p>Projections in {@code options.scope()} (never {@code lm_head}, which bitsandbytes also keeps
   * dense) are replaced by {@link Nf4Linear}s and their fp32 weights are closed, so the process
   * really gives the memory back. LoRA targets are then resolved as for plain LoRA and wrapped
   * around whatever projection is there, quantized or not.
   *
   * @param model a freshly loaded model whose projections are still dense
   * @param lora what LoRA adapts
   * @param options NF4 settings
   * @param manager owns the LoRA weights
   * @param seed seeds LoRA's initialisation exactly as {@link LoraAdapter#apply} does
   * @throws IllegalArgumentException when LoRA targets match nothing (message lists valid names)
   * @throws IllegalStateException when a projection to quantize is already wrapped or quantized
   */
  public static Qlora apply(
      LlamaModel model, LoraConfig lora, Nf4Options options, NDManager manager, long seed) {
    List<String> names = new ArrayList<>(model.linears().keySet());
    // Resolve LoRA targets before touching the model, so a typo fails with nothing changed.
    List<String> targets = lora.resolveTargets(names);
    List<String> toQuantize = new ArrayList<>();
    for (String name : options.scope() == Nf4Options.Scope.ALL_LINEAR ? names : targets) {
      if (!name.equals(LoraConfig.OUTPUT_LAYER) && !name.endsWith("." + LoraConfig.OUTPUT_LAYER)) {
        toQuantize.add(name);
      }
    }
    for (String name : toQuantize) {
      Linear current = model.linear(name);
      if (!(current instanceof DenseLinear)) {
        throw new IllegalStateException(
            name
                + " is already "
                + current.getClass().getSimpleName()
                + "; apply QLoRA to a freshly loaded model");
      }
    }
    Nf4Tables tables = Nf4Tables.create(model.manager());
    Map<String, Nf4Linear> quantized = new LinkedHashMap<>();
    for (String name : toQuantize) {
      DenseLinear dense = (DenseLinear) model.linear(name);
      NDArray w = dense.weight();
      Nf4Tensor t = Nf4Tensor.quantize(w.toFloatArray(), w.getShape().getShape(), options);
      Nf4Linear nf4 = new Nf4Linear(t, dense.bias(), tables, model.manager());
      model.replaceLinear(name, ignored -> nf4);
      model.releaseWeight(name + ".weight");
      quantized.put(name, nf4);
    }
    LoraAdapter adapter = LoraAdapter.apply(lora, model, manager, seed);
    return new Qlora(model, adapter, quantized, options);
  }

  /** The LoRA adapters; train {@code adapter().parameters()}. */
  public LoraAdapter adapter() {
    return adapter;
  }

  /** The quantized projections by HF module name, in model order. */
  public Map<String, Nf4Linear> quantized() {
    return quantized;
  }

  /** The options the base was quantized with. */
  public Nf4Options options() {
    return options;
  }

  /** Measures the resident base weights now: NF4 projections plus every remaining dense tensor. */
  public BaseWeightMemory baseWeightMemory() {
    long qParams = 0;
    long qBytes = quantized.isEmpty() ? 0 : Nf4Tables.BYTES;
    for (Nf4Linear l : quantized.values()) {
      qParams += (long) l.inFeatures() * l.outFeatures();
      qBytes += l.residentBytes();
    }
    long dParams = 0;
    long dBytes = 0;
    for (String name : model.weightNames()) {
      NDArray w = model.weight(name);
      dParams += w.size();
      dBytes += w.size() * w.getDataType().getNumOfBytes();
    }
    return new BaseWeightMemory(qParams, qBytes, dParams, dBytes);
  }
}
