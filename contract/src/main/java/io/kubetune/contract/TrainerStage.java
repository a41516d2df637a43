package io.kubetune.contract;

/** Where the trainer is; reported in the progress document. */
public enum TrainerStage {
  STARTING,
  LOADING_MODEL,
  VALIDATING_DATASET,
  EVALUATING,
  TRAINING,
  CHECKPOINTING,
  EXPORTING,
  SUCCEEDED,
  FAILED
}
