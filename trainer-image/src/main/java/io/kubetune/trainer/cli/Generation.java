package io.kubetune.trainer.cli;

/** Generates text with a base model and optionally an adapter; implemented with the model code. */
@FunctionalInterface
public interface Generation {
  /** Returns the generated continuation of the prompt (without the prompt). */
  String generate(GenerationRequest request) throws Exception;
}
