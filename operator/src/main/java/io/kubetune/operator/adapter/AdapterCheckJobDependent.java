package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.BulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The adapter check Jobs of an AdapterDeployment (one per adapter version being checked, see {@link
 * AdapterCheckJobs}): created when a check is needed, deleted when no longer wanted (its version
 * left the spec, or a failed check waits for its retry), never updated (a Job's pod template is
 * immutable; a new version gets a new name).
 */
@KubernetesDependent(informer = @Informer(labelSelector = AdapterCheckJobs.SELECT_CHECKS))
public class AdapterCheckJobDependent extends KubernetesDependentResource<Job, AdapterDeployment>
    implements Creator<Job, AdapterDeployment>,
        GarbageCollected<AdapterDeployment>,
        BulkDependentResource<Job, AdapterDeployment, ResourceID> {

  public AdapterCheckJobDependent() {
    super(Job.class);
  }

  @Override
  public Map<ResourceID, Job> desiredResources(
      AdapterDeployment primary, Context<AdapterDeployment> context) {
    Map<ResourceID, Job> out = new LinkedHashMap<>();
    for (Job job : AdapterContext.of(context).checkJobs()) {
      out.put(ResourceID.fromResource(job), job);
    }
    return out;
  }

  @Override
  public Map<ResourceID, Job> getSecondaryResources(
      AdapterDeployment primary, Context<AdapterDeployment> context) {
    return context
        .getSecondaryResourcesAsStream(Job.class)
        .filter(j -> primary.getMetadata().getNamespace().equals(j.getMetadata().getNamespace()))
        .collect(Collectors.toMap(ResourceID::fromResource, Function.identity()));
  }
}
