package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.Updater;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.contract.FailureReason;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import java.util.Map;
import java.util.Objects;

/**
 * The trainer batch/v1 Job. Created once the dataset validated; never replaced, because a new Job
 * would retrain. Only {@code activeDeadlineSeconds} follows the spec afterwards (Jobs allow that
 * change). When {@code queueName} is set the Job is created suspended with Kueue's queue label and
 * Kueue unsuspends it on admission; the operator never touches {@code spec.suspend} after that.
 */
@KubernetesDependent(
    informer =
        @Informer(
            labelSelector = Labels.SELECT_MANAGED + "," + Labels.COMPONENT + "=trainer",
            itemStore = PrunedCaches.JobStore.class))
public class TrainerJobDependent extends KubernetesDependentResource<Job, FineTuneJob>
    implements Creator<Job, FineTuneJob>, Updater<Job, FineTuneJob>, GarbageCollected<FineTuneJob> {

  public TrainerJobDependent() {
    super(Job.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(Labels.trainerJobName(job), job.getMetadata().getNamespace());
  }

  @Override
  protected Job desired(FineTuneJob job, Context<FineTuneJob> context) {
    FineTuneContext ctx = FineTuneContext.of(context);
    Map<String, String> labels = Labels.of(job, Labels.TRAINER);
    boolean queued = job.getSpec().queueName != null;
    if (queued) {
      labels.put(Labels.KUEUE_QUEUE, job.getSpec().queueName);
    }
    return new JobBuilder()
        .withNewMetadata()
        .withName(Labels.trainerJobName(job))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withSuspend(queued)
        .withBackoffLimit(job.getSpec().backoffLimit == null ? 3 : job.getSpec().backoffLimit)
        .withActiveDeadlineSeconds(job.getSpec().activeDeadlineSeconds)
        .withNewPodFailurePolicy()
        // Bad config, data or model fail the same way on every retry: stop at once.
        .addNewRule()
        .withAction("FailJob")
        .withNewOnExitCodes()
        .withContainerName(TrainerPods.CONTAINER)
        .withOperator("In")
        .withValues(
            FailureReason.CONFIG_INVALID.exitCode(),
            FailureReason.DATASET_INVALID.exitCode(),
            FailureReason.MODEL_INVALID.exitCode())
        .endOnExitCodes()
        .endRule()
        // Preemption and node drains are not the trainer's fault: retry without counting.
        .addNewRule()
        .withAction("Ignore")
        .addNewOnPodCondition()
        .withType("DisruptionTarget")
        .withStatus("True")
        .endOnPodCondition()
        .endRule()
        .endPodFailurePolicy()
        .withTemplate(TrainerPods.trainer(job, ctx.settings(), ctx.rendered()))
        .endSpec()
        .build();
  }

  @Override
  public Matcher.Result<Job> match(Job actual, FineTuneJob primary, Context<FineTuneJob> context) {
    return Matcher.Result.nonComputed(
        Objects.equals(
            actual.getSpec().getActiveDeadlineSeconds(), primary.getSpec().activeDeadlineSeconds));
  }

  @Override
  public Job update(Job actual, Job desired, FineTuneJob primary, Context<FineTuneJob> context) {
    return context
        .getClient()
        .resource(actual)
        .edit(
            j -> {
              j.getSpec().setActiveDeadlineSeconds(primary.getSpec().activeDeadlineSeconds);
              return j;
            });
  }
}
