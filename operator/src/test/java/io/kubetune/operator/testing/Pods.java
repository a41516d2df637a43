package io.kubetune.operator.testing;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kubetune.operator.adapter.ServingResources;
import java.time.Instant;
import java.util.Map;

/** Pods as the job controller, the scheduler and the kubelet report them, for mock-server tests. */
public final class Pods {
  private Pods() {}

  /**
   * A pod the job controller created for {@code job} (its template's labels, a controller owner
   * reference), in {@code phase} with one container.
   */
  public static Pod ofJob(Job job, String name, String phase, ContainerStatus container) {
    return new PodBuilder()
        .withMetadata(
            metadata(job, name)
                .addNewOwnerReference()
                .withApiVersion("batch/v1")
                .withKind("Job")
                .withName(job.getMetadata().getName())
                .withUid(job.getMetadata().getUid())
                .withController(true)
                .endOwnerReference()
                .build())
        .withNewStatus()
        .withPhase(phase)
        .withContainerStatuses(container)
        .endStatus()
        .build();
  }

  /** A pod of {@code job} the scheduler cannot place, with the scheduler's {@code message}. */
  public static Pod unschedulable(Job job, String name, String message) {
    return new PodBuilder()
        .withMetadata(metadata(job, name).build())
        .withNewStatus()
        .withPhase("Pending")
        .addNewCondition()
        .withType("PodScheduled")
        .withStatus("False")
        .withReason("Unschedulable")
        .withMessage(message)
        .endCondition()
        .endStatus()
        .build();
  }

  /** A pod of {@code job} as created now, with the labels of the job's pod template. */
  private static ObjectMetaBuilder metadata(Job job, String name) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
        .withCreationTimestamp(Instant.now().toString());
  }

  /** A container that terminated; name it with {@code withName}. */
  public static ContainerStatusBuilder terminated(int exitCode, String reason, String message) {
    return new ContainerStatusBuilder()
        .withNewState()
        .withNewTerminated()
        .withExitCode(exitCode)
        .withReason(reason)
        .withMessage(message)
        .endTerminated()
        .endState();
  }

  /** A ready container that started now; name it with {@code withName}. */
  public static ContainerStatusBuilder running() {
    return new ContainerStatusBuilder()
        .withReady(true)
        .withNewState()
        .withNewRunning()
        .withStartedAt(Instant.now().toString())
        .endRunning()
        .endState();
  }

  /** A started model server pod of AdapterDeployment {@code ad}: Running and Ready on loopback. */
  public static Pod readyServing(String ns, String ad, String name) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ns)
        .withLabels(
            Map.of(
                ServingResources.MANAGED_BY,
                ServingResources.OPERATOR,
                ServingResources.ADAPTER_DEPLOYMENT,
                ad,
                ServingResources.COMPONENT,
                ServingResources.SERVING))
        .withCreationTimestamp(Instant.now().toString())
        .endMetadata()
        .withNewStatus()
        .withPhase("Running")
        .withPodIP("127.0.0.1")
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .addNewContainerStatus()
        .withName(ServingResources.CONTAINER)
        .withReady(true)
        .withRestartCount(0)
        .endContainerStatus()
        .endStatus()
        .build();
  }
}
