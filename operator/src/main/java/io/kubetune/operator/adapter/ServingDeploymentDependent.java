package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;

/** The DJL Serving Deployment; its pod template never mentions adapters. */
@KubernetesDependent(informer = @Informer(labelSelector = ServingResources.SELECT_SERVING))
public class ServingDeploymentDependent extends ServingDependent<Deployment> {
  public ServingDeploymentDependent() {
    super(Deployment.class);
  }

  @Override
  Deployment build(AdapterDeployment primary, AdapterDeploymentSettings settings) {
    return ServingResources.deployment(primary, settings);
  }
}
