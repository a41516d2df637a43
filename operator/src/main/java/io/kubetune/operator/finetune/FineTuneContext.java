package io.kubetune.operator.finetune;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/**
 * What the reconciler decided before running the workflow, handed to the dependents and their
 * conditions through the workflow context so that each decision is made once.
 *
 * @param settings operator settings
 * @param rendered the rendered trainer config and mounts; null when the spec is invalid
 * @param trainerWanted whether the trainer Job should exist now
 * @param createArtifactStore whether to create the namespace artifact store PVC if absent
 */
record FineTuneContext(
    FineTuneJobSettings settings,
    TrainerConfigRenderer.Rendered rendered,
    boolean trainerWanted,
    boolean createArtifactStore) {

  private static final String KEY = FineTuneContext.class.getName();

  boolean specValid() {
    return rendered != null;
  }

  void putInto(Context<FineTuneJob> context) {
    context.managedWorkflowAndDependentResourceContext().put(KEY, this);
  }

  static FineTuneContext of(Context<FineTuneJob> context) {
    return context
        .managedWorkflowAndDependentResourceContext()
        .getMandatory(KEY, FineTuneContext.class);
  }
}
