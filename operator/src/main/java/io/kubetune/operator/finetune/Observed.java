package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import java.time.Instant;
import java.util.List;

/**
 * Everything the status of one FineTuneJob is computed from.
 *
 * @param job the FineTuneJob, with the status last written
 * @param problems spec problems, empty when the spec is valid
 * @param artifactClaim output PVC, for turning trainer paths into pvc:// URIs
 * @param artifactSubPath folder inside the output PVC, or null
 * @param validationJob the dataset validation Job, or null
 * @param validationPods its pods
 * @param trainerJob the trainer Job, or null
 * @param trainerPods its pods
 * @param progress the progress ConfigMap, or null
 * @param now the current time
 */
public record Observed(
    FineTuneJob job,
    List<SpecProblem> problems,
    String artifactClaim,
    String artifactSubPath,
    Job validationJob,
    List<Pod> validationPods,
    Job trainerJob,
    List<Pod> trainerPods,
    ConfigMap progress,
    Instant now) {}
