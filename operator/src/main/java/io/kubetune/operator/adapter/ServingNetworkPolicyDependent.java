package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;

/** The NetworkPolicy keeping the management API to the operator. */
@KubernetesDependent(informer = @Informer(labelSelector = ServingResources.SELECT_SERVING))
public class ServingNetworkPolicyDependent extends ServingDependent<NetworkPolicy> {
  public ServingNetworkPolicyDependent() {
    super(NetworkPolicy.class);
  }

  @Override
  NetworkPolicy build(AdapterDeployment primary, AdapterDeploymentSettings settings) {
    return ServingResources.networkPolicy(primary, settings);
  }
}
