package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/** Binds the progress Role to the trainer's ServiceAccount. */
@KubernetesDependent(
    informer = @Informer(labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=rbac"))
public class ProgressRoleBindingDependent
    extends CRUDKubernetesDependentResource<RoleBinding, FineTuneJob> {

  public ProgressRoleBindingDependent() {
    super(RoleBinding.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(Labels.trainerAccountName(job), job.getMetadata().getNamespace());
  }

  @Override
  protected RoleBinding desired(FineTuneJob job, Context<FineTuneJob> context) {
    String name = Labels.trainerAccountName(job);
    return new RoleBindingBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, Labels.RBAC))
        .endMetadata()
        .withNewRoleRef()
        .withApiGroup("rbac.authorization.k8s.io")
        .withKind("Role")
        .withName(name)
        .endRoleRef()
        .addNewSubject()
        .withKind("ServiceAccount")
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .endSubject()
        .build();
  }
}
