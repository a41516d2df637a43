package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;

/**
 * The dataset validation Job: one CPU-only pod running {@code validate-dataset}, whose termination
 * message is the dataset report. Create-only: a Job's pod template cannot change, so a new
 * generation after a failed validation deletes it and a fresh one is created.
 */
@KubernetesDependent(
    informer =
        @Informer(
            labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=validation",
            itemStore = PrunedCaches.JobStore.class))
public class ValidationJobDependent extends KubernetesDependentResource<Job, FineTuneJob>
    implements Creator<Job, FineTuneJob>, GarbageCollected<FineTuneJob> {

  public ValidationJobDependent() {
    super(Job.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(Labels.validationJobName(job), job.getMetadata().getNamespace());
  }

  @Override
  protected Job desired(FineTuneJob job, Context<FineTuneJob> context) {
    FineTuneContext ctx = FineTuneContext.of(context);
    return new JobBuilder()
        .withNewMetadata()
        .withName(Labels.validationJobName(job))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, Labels.VALIDATION))
        .addToAnnotations(
            Labels.VALIDATED_GENERATION, String.valueOf(job.getMetadata().getGeneration()))
        .endMetadata()
        .withNewSpec()
        // A dataset is either valid or not: retrying the same pod gives the same answer.
        .withBackoffLimit(0)
        .withActiveDeadlineSeconds(ctx.settings().validationDeadline().toSeconds())
        .withTemplate(TrainerPods.validation(job, ctx.settings(), ctx.rendered()))
        .endSpec()
        .build();
  }
}
