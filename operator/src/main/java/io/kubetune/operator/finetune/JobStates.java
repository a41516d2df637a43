package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.kubetune.operator.pods.PodStates;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** Reading batch Job and Pod state the way kubectl users would. */
final class JobStates {
  private JobStates() {}

  static Optional<JobCondition> condition(Job job, String type) {
    return PodStates.condition(job, type);
  }

  static boolean complete(Job job) {
    return condition(job, "Complete").isPresent();
  }

  static boolean failed(Job job) {
    return condition(job, "Failed").isPresent();
  }

  static boolean finished(Job job) {
    return complete(job) || failed(job);
  }

  /** Pods newest first. */
  static List<Pod> newestFirst(List<Pod> pods) {
    return pods.stream()
        .sorted(
            Comparator.comparing(
                    (Pod p) ->
                        p.getMetadata().getCreationTimestamp() == null
                            ? ""
                            : p.getMetadata().getCreationTimestamp())
                .thenComparing(p -> p.getMetadata().getName())
                .reversed())
        .toList();
  }

  static Optional<ContainerStatus> container(Pod pod) {
    return PodStates.container(pod, TrainerPods.CONTAINER);
  }

  static Optional<ContainerStateTerminated> terminated(Pod pod) {
    return container(pod)
        .map(
            s -> {
              if (s.getState() != null && s.getState().getTerminated() != null) {
                return s.getState().getTerminated();
              }
              return s.getLastState() == null ? null : s.getLastState().getTerminated();
            });
  }

  /** The newest pod that terminated, with its terminated state. */
  static Optional<Pod> newestTerminated(List<Pod> pods) {
    return newestFirst(pods).stream().filter(p -> terminated(p).isPresent()).findFirst();
  }

  static boolean running(Pod pod) {
    return pod.getStatus() != null
        && "Running".equals(pod.getStatus().getPhase())
        && container(pod)
            .map(s -> s.getState() != null && s.getState().getRunning() != null)
            .orElse(true);
  }

  /**
   * Why a pod is not running yet, as a condition reason and message, or empty when it is merely
   * starting.
   */
  static Optional<String[]> pendingReason(Pod pod) {
    Optional<String[]> unschedulable =
        PodStates.unschedulable(pod)
            .map(
                c ->
                    new String[] {
                      "Unschedulable",
                      "no node fits the pod: "
                          + (c.getMessage() == null ? "" : c.getMessage())
                          + "; check spec.resources (GPUs, nodeSelector, tolerations) and cluster"
                          + " capacity"
                    });
    if (unschedulable.isPresent()) {
      return unschedulable;
    }
    Optional<ContainerStatus> status = container(pod);
    if (status.isPresent()
        && status.get().getState() != null
        && status.get().getState().getWaiting() != null) {
      String reason = status.get().getState().getWaiting().getReason();
      String message = status.get().getState().getWaiting().getMessage();
      if ("ImagePullBackOff".equals(reason)
          || "ErrImagePull".equals(reason)
          || "InvalidImageName".equals(reason)) {
        return Optional.of(
            new String[] {
              "ImagePullBackOff",
              "cannot pull the trainer image: "
                  + (message == null ? reason : message)
                  + "; check spec.image or the operator's trainer image and pull secrets"
            });
      }
      if ("CrashLoopBackOff".equals(reason)) {
        return Optional.of(
            new String[] {
              "CrashLoopBackOff", "the trainer keeps crashing: " + (message == null ? "" : message)
            });
      }
      if ("CreateContainerConfigError".equals(reason)) {
        return Optional.of(
            new String[] {
              "CreateContainerConfigError",
              (message == null ? reason : message)
                  + "; check that the Secrets and ConfigMaps named in the spec exist"
            });
      }
    }
    return Optional.empty();
  }
}
