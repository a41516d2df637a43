package io.kubetune.operator.finetune;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/** Workflow conditions of the FineTuneJob dependents; each reads the reconciler's decision. */
final class Preconditions {
  private Preconditions() {}

  /** The spec is valid, so the config can be rendered and validation can run. */
  public static final class SpecValid implements Condition<Object, FineTuneJob> {
    @Override
    public boolean isMet(
        DependentResource<Object, FineTuneJob> dependent,
        FineTuneJob primary,
        Context<FineTuneJob> context) {
      return FineTuneContext.of(context).specValid();
    }
  }

  /**
   * The trainer Job should exist: spec valid, dataset validated, not suspended. When this turns
   * false for a running trainer (suspend), its Job is deleted and the pod stops.
   */
  public static final class TrainerWanted implements Condition<Object, FineTuneJob> {
    @Override
    public boolean isMet(
        DependentResource<Object, FineTuneJob> dependent,
        FineTuneJob primary,
        Context<FineTuneJob> context) {
      return FineTuneContext.of(context).trainerWanted();
    }
  }

  /** The job writes to the namespace artifact store and the operator may create it. */
  public static final class CreateArtifactStore implements Condition<Object, FineTuneJob> {
    @Override
    public boolean isMet(
        DependentResource<Object, FineTuneJob> dependent,
        FineTuneJob primary,
        Context<FineTuneJob> context) {
      return FineTuneContext.of(context).createArtifactStore();
    }
  }
}
