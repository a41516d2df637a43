package io.kubetune.trainer.cli;

import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.source.HubClient;
import java.nio.file.Path;

/** Turns the configured base model into a local folder (see {@link io.kubetune.trainer.source}). */
@FunctionalInterface
public interface ModelResolver {
  /** Resolves, downloading when needed, and returns the model folder. */
  Path resolve(TrainerConfig.BaseModel baseModel, HubClient.Scope scope);
}
