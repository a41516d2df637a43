package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.contract.Contract;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/** Lets the trainer read and write its own progress ConfigMap and nothing else. */
@KubernetesDependent(
    informer = @Informer(labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=rbac"))
public class ProgressRoleDependent extends CRUDKubernetesDependentResource<Role, FineTuneJob> {

  public ProgressRoleDependent() {
    super(Role.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(Labels.trainerAccountName(job), job.getMetadata().getNamespace());
  }

  @Override
  protected Role desired(FineTuneJob job, Context<FineTuneJob> context) {
    return new RoleBuilder()
        .withNewMetadata()
        .withName(Labels.trainerAccountName(job))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, Labels.RBAC))
        .endMetadata()
        .addNewRule()
        .withApiGroups("")
        .withResources("configmaps")
        .withResourceNames(Contract.progressConfigMapName(job.getMetadata().getName()))
        .withVerbs("get", "patch", "update")
        .endRule()
        .build();
  }
}
