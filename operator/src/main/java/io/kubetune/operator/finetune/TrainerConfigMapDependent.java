package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.contract.Contract;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/** The rendered trainer config ({@code <job>-config}), mounted at /etc/kubetune. */
@KubernetesDependent(
    informer =
        @Informer(labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=config"))
public class TrainerConfigMapDependent
    extends CRUDKubernetesDependentResource<ConfigMap, FineTuneJob> {

  public TrainerConfigMapDependent() {
    super(ConfigMap.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(
        Contract.configConfigMapName(job.getMetadata().getName()),
        job.getMetadata().getNamespace());
  }

  @Override
  protected ConfigMap desired(FineTuneJob job, Context<FineTuneJob> context) {
    FineTuneContext ctx = FineTuneContext.of(context);
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(Contract.configConfigMapName(job.getMetadata().getName()))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, Labels.CONFIG))
        .endMetadata()
        .withData(ctx.rendered().configData())
        .build();
  }
}
