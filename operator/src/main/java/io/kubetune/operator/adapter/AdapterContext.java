package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import java.util.List;

/**
 * What the reconciler hands to the dependents through the workflow context.
 *
 * @param settings operator settings
 * @param checkJobs the adapter check Jobs that should exist
 */
record AdapterContext(AdapterDeploymentSettings settings, List<Job> checkJobs) {
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
