package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.FailureReason;
import io.kubetune.trainer.cli.ConfigException;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.model.ModelConfigException;
import java.io.IOException;
import java.nio.file.Path;

/** Loads base models and adapters, turning their problems into the documented failures. */
final class Models {
  private Models() {}

  /** Loads the base model; a missing, corrupt or unsupported model is {@code MODEL_INVALID}. */
  static LlamaModel load(Path modelDir, NDManager manager) {
    try {
      return LlamaModel.load(modelDir, manager);
    } catch (ModelConfigException e) {
      throw new TrainerFailureException(
          FailureReason.MODEL_INVALID, "base model " + modelDir + ": " + e.getMessage(), e);
    }
  }

  /** Loads a PEFT adapter onto the model; an adapter that does not fit is a usage error. */
  static LoraAdapter loadAdapter(Path adapterDir, LlamaModel model, NDManager manager) {
    try {
      LoraAdapter adapter = PeftAdapter.load(adapterDir, model, manager);
      adapter.setTraining(false);
      return adapter;
    } catch (IOException | IllegalArgumentException e) {
      throw ConfigException.of(
          "--adapter",
          e.getMessage(),
          "pass an adapter folder trained on this base model by 'kubetune-trainer train'");
    }
  }
}
