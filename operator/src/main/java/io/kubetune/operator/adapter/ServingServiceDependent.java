package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.Service;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;

/** The inference Service. */
@KubernetesDependent(informer = @Informer(labelSelector = ServingResources.SELECT_SERVING))
public class ServingServiceDependent extends ServingDependent<Service> {
  public ServingServiceDependent() {
    super(Service.class);
  }

  @Override
  Service build(AdapterDeployment primary, AdapterDeploymentSettings settings) {
    return ServingResources.service(primary, settings);
  }
}
