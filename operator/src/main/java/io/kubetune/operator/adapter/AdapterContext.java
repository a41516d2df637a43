package io.kubetune.operator.adapter;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;

/**
 * What the reconciler hands to the dependents through the workflow context.
 *
 * @param settings operator settings
 */
record AdapterContext(AdapterDeploymentSettings settings) {
  private static final String KEY = AdapterContext.class.getName();

  void putInto(Context<AdapterDeployment> context) {
    context.managedWorkflowAndDependentResourceContext().put(KEY, this);
  }

  static AdapterContext of(Context<AdapterDeployment> context) {
    return context
        .managedWorkflowAndDependentResourceContext()
        .getMandatory(KEY, AdapterContext.class);
  }
}
