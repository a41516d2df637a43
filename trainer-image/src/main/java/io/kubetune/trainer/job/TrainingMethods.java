package io.kubetune.trainer.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.full.TrainableWeights;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.quant.BaseWeightMemory;
import io.kubetune.trainer.quant.Nf4Options;
import io.kubetune.trainer.quant.Qlora;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Sets a loaded model up for its {@code method.type}; a setting that does not fit is reported. */
final class TrainingMethods {
  private TrainingMethods() {}

  /** The method type of a config; absent means lora. */
  static String type(TrainerConfig.Method method) {
    return method == null || method.type() == null ? "lora" : method.type();
  }

  /**
   * Applies the method to a freshly loaded model.
   *
   * @param modelDir the base model folder (copied into a full-model export)
   * @param maxShardBytes largest weight file of a full-model export
   * @throws TrainerFailureException {@code CONFIG_INVALID} when the method's settings do not fit
   *     the model (the message names the field)
   */
  static TrainingMethod create(
      TrainerConfig.Method method,
      LlamaModel model,
      NDManager manager,
      long seed,
      Path modelDir,
      long maxShardBytes) {
    String type = type(method);
    try {
      switch (type) {
        case "lora":
          {
            long[] base = baseWeights(model);
            LoraAdapter adapter =
                LoraAdapter.apply(LoraConfig.fromContract(method), model, manager, seed);
            return new LoraMethod(type, adapter, base[0], base[1], null);
          }
        case "qlora":
          {
            long params = baseWeights(model)[0];
            Nf4Options options = Nf4Options.fromContract(method);
            Qlora qlora =
                Qlora.apply(model, LoraConfig.fromContract(method), options, manager, seed);
            BaseWeightMemory mem = qlora.baseWeightMemory();
            Map<String, Object> nf4 = new LinkedHashMap<>();
            nf4.put("quantization", "nf4");
            nf4.put("blockSize", options.blockSize());
            nf4.put("doubleQuant", options.doubleQuant());
            nf4.put("doubleQuantBlockSize", options.doubleQuantBlockSize());
            nf4.putAll(mem.toReport());
            return new LoraMethod(type, qlora.adapter(), params, mem.totalBytes(), nf4);
          }
        case "full":
          return new WeightsMethod(
              type, model, TrainableWeights.full(model), modelDir, maxShardBytes);
        case "partial":
          {
            int layers = method.trainableLayers() == null ? 0 : method.trainableLayers();
            List<String> modules =
                method.trainableModules() == null ? List.of() : method.trainableModules();
            return new WeightsMethod(
                type,
                model,
                TrainableWeights.partial(model, layers, modules),
                modelDir,
                maxShardBytes);
          }
        default:
          throw new TrainerFailureException(
              FailureReason.CONFIG_INVALID,
              "method.type: '" + type + "' is not one of lora, qlora, full, partial");
      }
    } catch (IllegalArgumentException e) {
      throw new TrainerFailureException(FailureReason.CONFIG_INVALID, e.getMessage(), e);
    }
  }

  /** Scalars and resident bytes of the model's base weights. */
  private static long[] baseWeights(LlamaModel model) {
    long params = 0;
    long bytes = 0;
    for (String name : model.weightNames()) {
      NDArray w = model.weight(name);
      params += w.size();
      bytes += w.size() * w.getDataType().getNumOfBytes();
    }
    return new long[] {params, bytes};
  }
}
