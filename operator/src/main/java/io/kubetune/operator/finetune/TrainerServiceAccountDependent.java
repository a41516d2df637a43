package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/** The trainer's own ServiceAccount, so its API rights are exactly the Role below. */
@KubernetesDependent(
    informer = @Informer(labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=rbac"))
public class TrainerServiceAccountDependent
    extends CRUDKubernetesDependentResource<ServiceAccount, FineTuneJob> {

  public TrainerServiceAccountDependent() {
    super(ServiceAccount.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(Labels.trainerAccountName(job), job.getMetadata().getNamespace());
  }

  @Override
  protected ServiceAccount desired(FineTuneJob job, Context<FineTuneJob> context) {
    return new ServiceAccountBuilder()
        .withNewMetadata()
        .withName(Labels.trainerAccountName(job))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, Labels.RBAC))
        .endMetadata()
        .build();
  }
}
