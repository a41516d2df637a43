package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.kubetune.contract.Contract;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a FineTuneJob into a validated dataset, a trainer Job and a status that follows them.
 *
 * <p>Flow: validate the spec (mistakes become a {@code Stalled} condition naming the field), run
 * the dataset validation Job, then create the trainer Job and mirror Job, Pod and trainer progress
 * into status. Children are dependents owned by the FineTuneJob, so deleting it removes them; the
 * artifact store PVC has no owner and keeps the adapters and checkpoints. The operator never
 * deletes a FineTuneJob and never writes its spec or metadata.
 */
@ControllerConfiguration(name = FineTuneJobReconciler.NAME)
@Workflow(
    // Invoked from reconcile() after the spec and dataset decisions are in the context.
    explicitInvocation = true,
    dependents = {
      @Dependent(
          name = "config",
          type = TrainerConfigMapDependent.class,
          reconcilePrecondition = Preconditions.SpecValid.class),
      @Dependent(name = "progress", type = ProgressConfigMapDependent.class),
      @Dependent(name = "serviceaccount", type = TrainerServiceAccountDependent.class),
      @Dependent(name = "role", type = ProgressRoleDependent.class),
      @Dependent(
          name = "rolebinding",
          type = ProgressRoleBindingDependent.class,
          dependsOn = {"serviceaccount", "role"}),
      @Dependent(
          name = "artifacts",
          type = ArtifactStoreDependent.class,
          reconcilePrecondition = Preconditions.CreateArtifactStore.class),
      @Dependent(
          name = "validation",
          type = ValidationJobDependent.class,
          dependsOn = "config",
          reconcilePrecondition = Preconditions.SpecValid.class),
      @Dependent(
          name = "trainer",
          type = TrainerJobDependent.class,
          dependsOn = {"progress", "rolebinding"},
          reconcilePrecondition = Preconditions.TrainerWanted.class)
    })
public class FineTuneJobReconciler implements Reconciler<FineTuneJob> {
  /** Controller name (metrics, logs). */
  public static final String NAME = "finetunejob";

  private static final Logger LOG = LoggerFactory.getLogger(FineTuneJobReconciler.class);
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private final FineTuneJobSettings settings;
  private final Clock clock;

  public FineTuneJobReconciler(FineTuneJobSettings settings) {
    this(settings, Clock.systemUTC());
  }

  FineTuneJobReconciler(FineTuneJobSettings settings, Clock clock) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, FineTuneJob>> prepareEventSources(
      EventSourceContext<FineTuneJob> context) {
    // Pods carry the Pending/failure reasons and termination messages Jobs do not.
    InformerEventSourceConfiguration<Pod> pods =
        InformerEventSourceConfiguration.from(Pod.class, FineTuneJob.class)
            .withName("pods")
            // Watch the namespaces the controller watches (all, or the configured ones).
            .withNamespacesInheritedFromController()
            .withLabelSelector(Labels.SELECT_MANAGED)
            // Status and metadata only: pod specs are most of a pod and never read here.
            .withItemStore(new PrunedCaches.PodStore())
            .withSecondaryToPrimaryMapper(
                pod -> {
                  Map<String, String> labels = pod.getMetadata().getLabels();
                  String owner = labels == null ? null : labels.get(Labels.FINETUNEJOB);
                  return owner == null
                      ? Set.of()
                      : Set.of(new ResourceID(owner, pod.getMetadata().getNamespace()));
                })
            .build();
    return List.of(new InformerEventSource<>(pods, context));
  }

  @Override
  public UpdateControl<FineTuneJob> reconcile(FineTuneJob job, Context<FineTuneJob> context) {
    List<SpecProblem> problems = SpecValidator.validate(job);
    TrainerConfigRenderer.Rendered rendered =
        problems.isEmpty() ? TrainerConfigRenderer.render(job, settings) : null;
    long generation = generation(job);

    Job validationJob = job(context, Labels.validationJobName(job));
    List<Pod> validationPods = pods(context, validationJob, Labels.VALIDATION);
    FineTuneJobStatusComputer.ValidationResult validation =
        FineTuneJobStatusComputer.validation(validationJob, validationPods, clock.instant());
    if (validationJob != null
        && (validation.state() == FineTuneJobStatusComputer.Validation.INVALID
            || validation.state() == FineTuneJobStatusComputer.Validation.ERROR)
        && validatedGeneration(validationJob) < generation) {
      // A new generation after a failed validation: validate again (a fixed ConfigMap or file,
      // or a spec change). The delete event triggers the reconcile that creates the new Job.
      context
          .getClient()
          .resource(validationJob)
          .withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND)
          .delete();
      validationJob = null;
      validationPods = List.of();
      validation = FineTuneJobStatusComputer.validation(null, List.of(), clock.instant());
    }

    Job trainerJob = job(context, Labels.trainerJobName(job));
    boolean suspend = Boolean.TRUE.equals(job.getSpec() == null ? null : job.getSpec().suspend);
    boolean trainerWanted;
    if (trainerJob != null) {
      // Suspending deletes the trainer Job (the pod stops; checkpoints stay), unless it finished.
      trainerWanted = !suspend || JobStates.finished(trainerJob);
    } else {
      boolean succeeded = job.getStatus() != null && job.getStatus().phase == Phase.Succeeded;
      trainerWanted =
          rendered != null
              && !suspend
              && !succeeded
              && FineTuneJobStatusComputer.datasetValidated(job, validation);
    }
    boolean createStore =
        rendered != null
            && settings.createArtifactStore()
            && (job.getSpec().output == null || job.getSpec().output.volume == null);
    new FineTuneContext(settings, rendered, trainerWanted, createStore).putInto(context);
    context.managedWorkflowAndDependentResourceContext().reconcileManagedWorkflow();

    // Re-read: the workflow may just have created or deleted Jobs.
    validationJob = validationJob == null ? null : job(context, Labels.validationJobName(job));
    trainerJob = job(context, Labels.trainerJobName(job));
    if (trainerJob != null && !trainerWanted) {
      trainerJob = null;
    }
    ConfigMap progress =
        context.getSecondaryResources(ConfigMap.class).stream()
            .filter(
                cm ->
                    Contract.progressConfigMapName(job.getMetadata().getName())
                        .equals(cm.getMetadata().getName()))
            .findFirst()
            .orElse(null);
    String claim =
        rendered != null
            ? rendered.artifactClaim()
            : job.getSpec() != null
                    && job.getSpec().output != null
                    && job.getSpec().output.volume != null
                ? job.getSpec().output.volume.claimName
                : settings.artifactClaimName();
    Observed observed =
        new Observed(
            job,
            problems,
            claim,
            rendered == null ? null : rendered.artifactSubPath(),
            validationJob,
            validationPods,
            trainerJob,
            pods(context, trainerJob, Labels.TRAINER),
            progress,
            clock.instant());
    FineTuneJobStatus status = FineTuneJobStatusComputer.compute(observed);
    FineTuneJobStatus before = job.getStatus();

    UpdateControl<FineTuneJob> control;
    if (sameStatus(before, status)) {
      control = UpdateControl.noUpdate();
    } else {
      recordMilestones(context, job, before, status);
      job.setStatus(status);
      control = UpdateControl.patchStatus(job);
    }
    if (status.phase != Phase.Succeeded && status.phase != Phase.Failed) {
      control.rescheduleAfter(settings.resync());
    }
    return control;
  }

  private static boolean sameStatus(FineTuneJobStatus a, FineTuneJobStatus b) {
    if (a == null) {
      return false;
    }
    return JSON.convertValue(a, com.fasterxml.jackson.databind.JsonNode.class)
        .equals(JSON.convertValue(b, com.fasterxml.jackson.databind.JsonNode.class));
  }

  private void recordMilestones(
      Context<FineTuneJob> context,
      FineTuneJob job,
      FineTuneJobStatus before,
      FineTuneJobStatus after) {
    EventRecorder events = new EventRecorder(context.getClient());
    List<Condition> old = before == null ? null : before.conditions;
    for (Condition c : after.conditions) {
      if (!ConditionSet.transitioned(old, c)) {
        continue;
      }
      boolean milestone =
          switch (c.getType()) {
            case Conditions.DATASET_VALIDATED,
                Conditions.COMPLETE,
                Conditions.FAILED,
                Conditions.SUSPENDED,
                Conditions.RUNNING,
                Conditions.ADMITTED ->
                !Conditions.UNKNOWN.equals(c.getStatus())
                    && (Conditions.TRUE.equals(c.getStatus()) || old != null);
            default -> false;
          };
      if (!milestone) {
        continue;
      }
      boolean bad =
          (Conditions.FAILED.equals(c.getType()) && Conditions.TRUE.equals(c.getStatus()))
              || (Conditions.DATASET_VALIDATED.equals(c.getType())
                  && Conditions.FALSE.equals(c.getStatus()));
      String message = c.getType() + "=" + c.getStatus() + ": " + c.getMessage();
      if (bad) {
        events.warning(job, c.getReason(), message);
      } else if (Conditions.TRUE.equals(c.getStatus())) {
        events.normal(job, c.getReason(), message);
      }
    }
    if (before == null || before.phase != after.phase) {
      LOG.info(
          "FineTuneJob {}/{} is {}",
          job.getMetadata().getNamespace(),
          job.getMetadata().getName(),
          after.phase);
    }
  }

  private static long generation(HasMetadata resource) {
    Long g = resource.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  private static long validatedGeneration(Job job) {
    Map<String, String> annotations = job.getMetadata().getAnnotations();
    String text = annotations == null ? null : annotations.get(Labels.VALIDATED_GENERATION);
    try {
      return text == null ? 0 : Long.parseLong(text);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static Job job(Context<FineTuneJob> context, String name) {
    return context.getSecondaryResources(Job.class).stream()
        .filter(j -> name.equals(j.getMetadata().getName()))
        .findFirst()
        .orElse(null);
  }

  /** Pods of {@code job}; pods of an earlier Job of the same name (before a resume) are ignored. */
  private static List<Pod> pods(Context<FineTuneJob> context, Job job, String component) {
    if (job == null) {
      return List.of();
    }
    String uid = job.getMetadata().getUid();
    return context.getSecondaryResources(Pod.class).stream()
        .filter(
            p ->
                p.getMetadata().getLabels() != null
                    && component.equals(p.getMetadata().getLabels().get(Labels.COMPONENT)))
        .filter(
            p -> {
              List<OwnerReference> owners = p.getMetadata().getOwnerReferences();
              return owners == null
                  || owners.isEmpty()
                  || uid == null
                  || owners.stream().anyMatch(o -> uid.equals(o.getUid()));
            })
        .toList();
  }
}
