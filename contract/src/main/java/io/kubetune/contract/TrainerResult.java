package io.kubetune.contract;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The trainer's final summary, written to the container termination message (at most {@link
 * Contract#MAX_TERMINATION_MESSAGE_BYTES} bytes).
 *
 * @param schemaVersion {@link Contract#SCHEMA_VERSION}
 * @param succeeded whether training finished and the adapter was exported
 * @param failure why it failed, when it failed
 * @param message a one-line explanation for users
 * @param adapter the exported adapter or, for full and partial fine-tuning, model ({@link
 *     AdapterInfo#kind()}), on success
 * @param baseline evaluation before training
 * @param finalEval evaluation of the exported adapter
 * @param trainLoss final training loss
 * @param steps optimizer steps done
 * @param footprint trainable parameters and memory of the method, on success
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainerResult(
    int schemaVersion,
    boolean succeeded,
    FailureReason failure,
    String message,
    AdapterInfo adapter,
    EvalMetrics baseline,
    EvalMetrics finalEval,
    Double trainLoss,
    Long steps,
    MethodFootprint footprint) {

  /** A result without a footprint (failures, older trainers). */
  public TrainerResult(
      int schemaVersion,
      boolean succeeded,
      FailureReason failure,
      String message,
      AdapterInfo adapter,
      EvalMetrics baseline,
      EvalMetrics finalEval,
      Double trainLoss,
      Long steps) {
    this(
        schemaVersion,
        succeeded,
        failure,
        message,
        adapter,
        baseline,
        finalEval,
        trainLoss,
        steps,
        null);
  }
}
