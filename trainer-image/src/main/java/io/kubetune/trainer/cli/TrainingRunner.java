package io.kubetune.trainer.cli;

import io.kubetune.contract.TrainerResult;

/**
 * Runs one fine-tuning job; implemented with the model, data, LoRA, training and export code.
 *
 * <p>Contract with the CLI: report progress through {@link TrainingJob#progress()} (the CLI has
 * reported STARTING and LOADING_MODEL and reports the final SUCCEEDED/FAILED itself); poll {@link
 * TrainingJob#stop()} between steps and, when it is set, write a checkpoint and return a result
 * with {@code succeeded=false} and no failure reason (or throw a {@link
 * java.util.concurrent.CancellationException}, which the CLI reports the same way); signal a known
 * failure with {@link TrainerFailureException} (e.g. {@code TRAINING_DIVERGED}); any other
 * exception is classified by {@link Failures}.
 */
@FunctionalInterface
public interface TrainingRunner {
  /** Trains and exports the adapter; returns the result summary. */
  TrainerResult train(TrainingJob job) throws Exception;
}
