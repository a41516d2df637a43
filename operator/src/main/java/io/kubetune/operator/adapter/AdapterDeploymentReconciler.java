package io.kubetune.operator.adapter;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.kubetune.operator.adapter.AdapterDeploymentValidator.Problem;
import io.kubetune.operator.adapter.AdapterSources.Ready;
import io.kubetune.operator.adapter.AdapterSources.Resolved;
import io.kubetune.operator.adapter.AdapterSyncEventSource.ServedVersion;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus.AdapterState;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.AdapterSynchronizer.PodEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Serves an AdapterDeployment: a Deployment of DJL Serving pods holding the base model, an
 * inference Service and a NetworkPolicy (workflow dependents), and on every ready pod the adapters
 * of the spec, kept in sync over the management API by an {@link AdapterSynchronizer} that runs off
 * the reconcile thread (see {@link AdapterSyncEventSource}).
 *
 * <p>Reconcile resolves adapter sources (a FineTuneJob must have succeeded), checks the adapter
 * folders (in-process, or through check Jobs where the operator cannot read the artifact store),
 * hands the desired list and the ready pods to the synchronizer and writes the status from the
 * latest sync result. It reconciles again on pod events, FineTuneJob changes, sync results that
 * change status, and a resync period. Adapters never enter the pod template.
 */
@ControllerConfiguration(name = AdapterDeploymentReconciler.NAME)
@Workflow(
    // Invoked from reconcile() only with a valid spec: a typo must not roll the serving pods.
    explicitInvocation = true,
    dependents = {
      @Dependent(name = "deployment", type = ServingDeploymentDependent.class),
      @Dependent(name = "service", type = ServingServiceDependent.class),
      @Dependent(name = "networkpolicy", type = ServingNetworkPolicyDependent.class),
      @Dependent(name = "adapter-checks", type = AdapterCheckJobDependent.class)
    })
public class AdapterDeploymentReconciler implements Reconciler<AdapterDeployment>, MeterBinder {
  /** Controller name (metrics, logs). */
  public static final String NAME = "adapterdeployment";

  private static final KubernetesSerialization JSON = new KubernetesSerialization();
  private static final String JOB_INDEX = "fineTuneJobRefs";

  private final AdapterDeploymentSettings settings;
  private final PodEndpointResolver endpoints;
  private final Clock clock;
  private final AdapterSources sources;
  private final AdapterSyncEventSource syncSource;

  /** Creates the reconciler for production: pods are reached at their IP. */
  public AdapterDeploymentReconciler(AdapterDeploymentSettings settings) {
    this(settings, PodEndpointResolver.podIp(settings), Clock.systemUTC());
  }

  /** Creates the reconciler with another way to reach pods (tests reach fakes on loopback). */
  public AdapterDeploymentReconciler(
      AdapterDeploymentSettings settings, PodEndpointResolver endpoints, Clock clock) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.endpoints = endpoints;
    this.clock = clock;
    this.sources = new AdapterSources(settings);
    this.syncSource = new AdapterSyncEventSource(settings, clock);
  }

  /** Records model-server call latency and adapter sync failures in {@code registry}. */
  @Override
  public void bindTo(MeterRegistry registry) {
    syncSource.bindTo(registry);
  }

  @Override
  public List<EventSource<?, AdapterDeployment>> prepareEventSources(
      EventSourceContext<AdapterDeployment> context) {
    InformerEventSourceConfiguration<Pod> pods =
        InformerEventSourceConfiguration.from(Pod.class, AdapterDeployment.class)
            .withName("serving-pods")
            .withLabelSelector(ServingResources.SELECT_SERVING)
            .withSecondaryToPrimaryMapper(AdapterDeploymentReconciler::owner)
            .build();
    // Adapter check pods carry the verdict in their termination message.
    InformerEventSourceConfiguration<Pod> checkPods =
        InformerEventSourceConfiguration.from(Pod.class, AdapterDeployment.class)
            .withName("adapter-check-pods")
            .withLabelSelector(AdapterCheckJobs.SELECT_CHECKS)
            .withSecondaryToPrimaryMapper(AdapterDeploymentReconciler::owner)
            .build();
    // FineTuneJob → the AdapterDeployments that reference it, through an index of the primary
    // cache, so a job finishing (or re-running with a new adapter) rolls the adapter out.
    context.getPrimaryCache().addIndexer(JOB_INDEX, AdapterDeploymentReconciler::jobKeys);
    InformerEventSourceConfiguration<FineTuneJob> jobs =
        InformerEventSourceConfiguration.from(FineTuneJob.class, AdapterDeployment.class)
            .withName("finetunejobs")
            // Also primary → secondary: a FineTuneJob that finished before the AdapterDeployment
            // was created produced no event that maps to it.
            .withPrimaryToSecondaryMapper(
                (AdapterDeployment ad) ->
                    jobKeys(ad).stream()
                        .map(
                            k ->
                                new ResourceID(
                                    k.substring(k.indexOf('/') + 1),
                                    ad.getMetadata().getNamespace()))
                        .collect(Collectors.toSet()))
            .withSecondaryToPrimaryMapper(
                job ->
                    context
                        .getPrimaryCache()
                        .byIndex(
                            JOB_INDEX,
                            job.getMetadata().getNamespace() + "/" + job.getMetadata().getName())
                        .stream()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build();
    return List.of(
        new InformerEventSource<>(pods, context),
        new InformerEventSource<>(checkPods, context),
        new InformerEventSource<>(jobs, context),
        syncSource);
  }

  /** The AdapterDeployment a serving or check pod belongs to, by its label. */
  private static Set<ResourceID> owner(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    String owner = labels == null ? null : labels.get(ServingResources.ADAPTER_DEPLOYMENT);
    return owner == null
        ? Set.of()
        : Set.of(new ResourceID(owner, pod.getMetadata().getNamespace()));
  }

  private static List<String> jobKeys(AdapterDeployment ad) {
    if (ad.getSpec() == null || ad.getSpec().adapters == null) {
      return List.of();
    }
    List<String> keys = new ArrayList<>();
    for (AdapterEntry e : ad.getSpec().adapters) {
      if (e != null
          && e.source != null
          && e.source.fineTuneJobRef != null
          && e.source.fineTuneJobRef.name != null) {
        keys.add(ad.getMetadata().getNamespace() + "/" + e.source.fineTuneJobRef.name);
      }
    }
    return keys;
  }

  @Override
  public UpdateControl<AdapterDeployment> reconcile(
      AdapterDeployment ad, Context<AdapterDeployment> context) {
    List<Problem> problems = AdapterDeploymentValidator.validate(ad);
    boolean servingValid = problems.stream().noneMatch(Problem::blocksServing);

    String ns = ad.getMetadata().getNamespace();
    List<Pod> allPods =
        context.getSecondaryResources(Pod.class).stream()
            .filter(p -> ns.equals(p.getMetadata().getNamespace()))
            .toList();
    List<Pod> pods =
        allPods.stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .filter(p -> hasComponent(p, ServingResources.SERVING))
            .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
            .toList();
    List<PodEndpoint> ready = new ArrayList<>();
    List<String> podVersions = new ArrayList<>();
    for (Pod pod : pods) {
      if (isReady(pod)) {
        Optional<PodEndpoint> endpoint = endpoints.resolve(pod);
        if (endpoint.isPresent()) {
          ready.add(endpoint.get());
          podVersions.add(podVersion(pod));
        }
      }
    }

    Map<String, FineTuneJob> jobs = new HashMap<>();
    context.getSecondaryResources(FineTuneJob.class).stream()
        .filter(j -> ns.equals(j.getMetadata().getNamespace()))
        .forEach(j -> jobs.put(j.getMetadata().getName(), j));
    Function<String, FineTuneJob> jobByName = jobs::get;
    AdapterCheckJobs.Round checks =
        sources.checkRound(
            ad,
            context.getSecondaryResources(Job.class).stream()
                .filter(j -> ns.equals(j.getMetadata().getNamespace()))
                .toList(),
            allPods.stream().filter(p -> hasComponent(p, AdapterCheckJobs.COMPONENT)).toList(),
            clock.instant());
    List<Resolved> resolved =
        sources.resolve(
            ad, jobByName, AdapterDeploymentValidator.invalidAdapterIndexes(problems), checks);
    checks.finish();
    if (servingValid) {
      // After resolving: the workflow also creates the check Jobs the adapters still need.
      new AdapterContext(settings, checks.desiredJobs()).putInto(context);
      context.managedWorkflowAndDependentResourceContext().reconcileManagedWorkflow();
    }
    List<AdapterSynchronizer.DesiredAdapter> desired =
        resolved.stream().filter(r -> r instanceof Ready).map(r -> ((Ready) r).desired()).toList();

    ResourceID id = ResourceID.fromResource(ad);
    if (servingValid) {
      syncSource.request(
          id, new AdapterSyncEventSource.Request(desired, ready, podVersions), remembered(ad));
    }
    Optional<SyncOutcome> outcome = syncSource.latest(id);

    AdapterDeploymentStatus status =
        AdapterDeploymentStatusComputer.compute(
            new AdapterDeploymentStatusComputer.Observed(
                ad,
                problems,
                pods.size(),
                ready,
                resolved,
                outcome.orElse(null),
                ServingResources.url(ad, settings),
                clock.instant()));
    UpdateControl<AdapterDeployment> control;
    if (sameStatus(ad.getStatus(), status)) {
      control = UpdateControl.noUpdate();
    } else {
      ad.setStatus(status);
      control = UpdateControl.patchStatus(ad);
    }
    // The sync source reports changes; this period only re-reads FineTuneJobs and adapter files.
    Duration next = settings.resync();
    Optional<Duration> retry = checks.nextRetry();
    if (retry.isPresent() && retry.get().compareTo(next) < 0) {
      next = retry.get();
    }
    return control.rescheduleAfter(next);
  }

  private static boolean hasComponent(Pod pod, String component) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels != null && component.equals(labels.get(ServingResources.COMPONENT));
  }

  /** What the status says each adapter is served as, for the synchronizer after a restart. */
  private static Map<String, ServedVersion> remembered(AdapterDeployment ad) {
    Map<String, ServedVersion> out = new HashMap<>();
    if (ad.getStatus() != null && ad.getStatus().adapters != null) {
      for (AdapterState a : ad.getStatus().adapters) {
        if (a.name != null && a.servedName != null && a.digest != null) {
          out.put(a.name, new ServedVersion(a.servedName, a.digest));
        }
      }
    }
    return out;
  }

  /** Pod identity plus container restarts: runtime registrations do not survive either. */
  private static String podVersion(Pod pod) {
    int restarts = 0;
    if (pod.getStatus().getContainerStatuses() != null) {
      for (var c : pod.getStatus().getContainerStatuses()) {
        restarts += c.getRestartCount() == null ? 0 : c.getRestartCount();
      }
    }
    return pod.getMetadata().getName() + "/" + pod.getMetadata().getUid() + "/" + restarts;
  }

  /** Ready as the kubelet reports it (HTTP /ping answered); the synchronizer parses the body. */
  static boolean isReady(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return false;
    }
    return "Running".equals(pod.getStatus().getPhase())
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static boolean sameStatus(AdapterDeploymentStatus a, AdapterDeploymentStatus b) {
    if (a == null) {
      return false;
    }
    return JSON.convertValue(a, JsonNode.class).equals(JSON.convertValue(b, JsonNode.class));
  }
}
