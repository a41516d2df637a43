package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.contract.Contract;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/**
 * The empty {@code <job>-progress} ConfigMap the trainer writes its progress into. Created by the
 * operator because RBAC cannot limit {@code create} by name; never updated by the operator (it is
 * the trainer's to write), and its changes trigger a reconcile that mirrors them into status.
 */
@KubernetesDependent(
    informer =
        @Informer(labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=progress"))
public class ProgressConfigMapDependent extends KubernetesDependentResource<ConfigMap, FineTuneJob>
    implements Creator<ConfigMap, FineTuneJob>, GarbageCollected<FineTuneJob> {

  public ProgressConfigMapDependent() {
    super(ConfigMap.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(
        Contract.progressConfigMapName(job.getMetadata().getName()),
        job.getMetadata().getNamespace());
  }

  @Override
  protected ConfigMap desired(FineTuneJob job, Context<FineTuneJob> context) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(Contract.progressConfigMapName(job.getMetadata().getName()))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, Labels.PROGRESS))
        .endMetadata()
        .build();
  }
}
