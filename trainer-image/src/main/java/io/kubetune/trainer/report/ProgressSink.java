package io.kubetune.trainer.report;

import io.kubetune.contract.TrainerProgress;

/** Somewhere progress documents are published besides stdout (the progress ConfigMap). */
@FunctionalInterface
public interface ProgressSink {
  /**
   * Publishes one progress document. Implementations report their own failures (logging them
   * without secrets) and return normally: progress reporting never stops training.
   */
  void publish(TrainerProgress progress);
}
