package io.kubetune.operator.finetune;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubetune.contract.Contract;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.testing.Jobs;
import io.kubetune.operator.testing.Pods;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Plays Kubernetes' and the trainer's part on the mock server: Job controller status, pods with
 * termination messages, progress ConfigMap writes.
 */
final class Cluster {
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final KubernetesClient client;

  Cluster(KubernetesClient client) {
    this.client = client;
  }

  FineTuneJob create(FineTuneJob job) {
    return client.resource(job).create();
  }

  FineTuneJob get(String ns, String name) {
    return client.resources(FineTuneJob.class).inNamespace(ns).withName(name).get();
  }

  FineTuneJob awaitStatus(String ns, String name, Predicate<FineTuneJobStatus> condition) {
    return await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> get(ns, name),
            j -> j != null && j.getStatus() != null && condition.test(j.getStatus()));
  }

  FineTuneJob awaitPhase(String ns, String name, Phase phase) {
    return awaitStatus(ns, name, s -> s.phase == phase);
  }

  /**
   * Changes a FineTuneJob's spec as kubectl edit would, retrying on conflicts with status writes.
   */
  void editSpec(String ns, String name, java.util.function.Consumer<FineTuneJob> change) {
    await()
        .atMost(TIMEOUT)
        .ignoreExceptionsInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .until(
            () -> {
              client
                  .resources(FineTuneJob.class)
                  .inNamespace(ns)
                  .withName(name)
                  .edit(
                      j -> {
                        change.accept(j);
                        return j;
                      });
              return true;
            });
  }

  Job job(String ns, String name) {
    return client.batch().v1().jobs().inNamespace(ns).withName(name).get();
  }

  Job awaitJob(String ns, String name) {
    return await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> job(ns, name), j -> j != null);
  }

  void awaitJobGone(String ns, String name) {
    await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> job(ns, name) == null);
  }

  /** The job controller's view: a pod for {@code job} in the given state. */
  Pod pod(Job job, String suffix, ContainerStatusBuilder container, String phase) {
    Pod pod =
        Pods.ofJob(
            job,
            job.getMetadata().getName() + "-" + suffix,
            phase,
            container.withName(TrainerPods.CONTAINER).build());
    return client.resource(pod).createOr(p -> p.update());
  }

  Pod terminatedPod(Job job, String suffix, int exitCode, String reason, String message) {
    return pod(
        job,
        suffix,
        Pods.terminated(exitCode, reason, message),
        exitCode == 0 ? "Succeeded" : "Failed");
  }

  Pod runningPod(Job job, String suffix) {
    return pod(job, suffix, Pods.running(), "Running");
  }

  Pod waitingPod(Job job, String suffix, String reason, String message) {
    return pod(
        job,
        suffix,
        new ContainerStatusBuilder()
            .withNewState()
            .withNewWaiting()
            .withReason(reason)
            .withMessage(message)
            .endWaiting()
            .endState(),
        "Pending");
  }

  void unschedulablePod(Job job, String suffix) {
    client
        .resource(
            Pods.unschedulable(
                job,
                job.getMetadata().getName() + "-" + suffix,
                "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."))
        .create();
  }

  /** Sets Job status as the job controller would. */
  void jobStatus(Job job, Integer active, Integer failed, String conditionType, String reason) {
    Jobs.setStatus(client, job, active, failed, conditionType, reason);
  }

  /** The trainer's progress write. */
  void writeProgress(String ns, String job, String document) {
    client
        .configMaps()
        .inNamespace(ns)
        .withName(Contract.progressConfigMapName(job))
        .edit(
            cm -> {
              cm.setData(Map.of(Contract.PROGRESS_KEY, document));
              return cm;
            });
  }

  ConfigMap configMap(String ns, String name) {
    return client.configMaps().inNamespace(ns).withName(name).get();
  }

  static Optional<io.fabric8.kubernetes.api.model.Condition> condition(
      FineTuneJobStatus status, String type) {
    return status.conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  static boolean is(FineTuneJobStatus status, String type, String value) {
    return condition(status, type).map(c -> value.equals(c.getStatus())).orElse(false);
  }

  static boolean reason(FineTuneJobStatus status, String type, String reason) {
    return condition(status, type).map(c -> reason.equals(c.getReason())).orElse(false);
  }

  static String uid() {
    return UUID.randomUUID().toString();
  }

  static boolean stalled(FineTuneJobStatus s) {
    return is(s, Conditions.STALLED, Conditions.TRUE);
  }
}
