package io.kubetune.trainer.cli;

/**
 * One thing wrong with the trainer config, phrased for the person who has to fix it.
 *
 * @param field dotted path of the field, e.g. {@code hyperparameters.learningRate}
 * @param problem what is wrong, e.g. {@code must be > 0, got -1}
 * @param fix how to fix it
 */
public record ConfigProblem(String field, String problem, String fix) {
  /** The one-line form {@code <field>: <problem>; <fix>}. */
  @Override
  public String toString() {
    return field + ": " + problem + (fix == null || fix.isEmpty() ? "" : "; " + fix);
  }
}
