package io.kubetune.operator.testing;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.List;

/** Job status as the job controller writes it, for mock-server tests. */
public final class Jobs {
  private Jobs() {}

  /**
   * Sets the status of {@code job} as the job controller would: started a minute ago, with {@code
   * active} and {@code failed} pods and, when {@code conditionType} is set, that condition True
   * (Complete also sets the completion time and one succeeded pod).
   */
  public static void setStatus(
      KubernetesClient client,
      Job job,
      Integer active,
      Integer failed,
      String conditionType,
      String reason) {
    Job current =
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(job.getMetadata().getNamespace())
            .withName(job.getMetadata().getName())
            .get();
    current.setStatus(
        new JobStatusBuilder()
            .withActive(active)
            .withFailed(failed)
            .withStartTime(Instant.now().minusSeconds(60).toString())
            .build());
    if (conditionType != null) {
      current
          .getStatus()
          .setConditions(
              List.of(
                  new JobConditionBuilder()
                      .withType(conditionType)
                      .withStatus("True")
                      .withReason(reason)
                      .withLastTransitionTime(Instant.now().toString())
                      .build()));
      if ("Complete".equals(conditionType)) {
        current.getStatus().setCompletionTime(Instant.now().toString());
        current.getStatus().setSucceeded(1);
      }
    }
    client.resource(current).updateStatus();
  }

  /** A status with only the condition {@code type} True for {@code reason}. */
  public static JobStatus withCondition(String type, String reason) {
    return new JobStatusBuilder()
        .addNewCondition()
        .withType(type)
        .withStatus("True")
        .withReason(reason)
        .endCondition()
        .build();
  }
}
