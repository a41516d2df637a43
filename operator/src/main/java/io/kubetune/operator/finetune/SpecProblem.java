package io.kubetune.operator.finetune;

/**
 * A mistake in a FineTuneJob spec.
 *
 * @param field the JSON path of the field at fault, such as {@code spec.method.lora.rank}
 * @param message what is wrong and how to fix it
 */
public record SpecProblem(String field, String message) {
  @Override
  public String toString() {
    return field + ": " + message;
  }
}
