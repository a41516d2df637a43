package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.ResourcesSpec;
import io.kubetune.operator.pods.PodSpecs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pod templates of the dataset validation pod and the trainer pod. Both run the trainer image under
 * the restricted Pod Security profile: non-root, read-only root filesystem (writable {@code /tmp}
 * and artifact mounts only), no capabilities, RuntimeDefault seccomp.
 */
final class TrainerPods {
  /** Container name in both pods. */
  static final String CONTAINER = "trainer";

  private TrainerPods() {}

  /** The dataset validation pod: CPU only, no API token, report as termination message. */
  static PodTemplateSpec validation(
      FineTuneJob job, FineTuneJobSettings settings, TrainerConfigRenderer.Rendered rendered) {
    Map<String, Quantity> resources = new LinkedHashMap<>();
    resources.put("cpu", settings.validationCpu());
    resources.put("memory", settings.validationMemory());
    Container container =
        container(job, settings, rendered, List.of("validate-dataset", "--config"))
            .withResources(
                new ResourceRequirementsBuilder()
                    .withRequests(resources)
                    .withLimits(resources)
                    .build())
            .build();
    return template(job, settings, rendered, Labels.VALIDATION, container, false).build();
  }

  /** The trainer pod: GPUs and scheduling constraints from spec.resources. */
  static PodTemplateSpec trainer(
      FineTuneJob job, FineTuneJobSettings settings, TrainerConfigRenderer.Rendered rendered) {
    ResourcesSpec r =
        job.getSpec().resources == null ? new ResourcesSpec() : job.getSpec().resources;
    Container container =
        container(job, settings, rendered, List.of("train", "--config"))
            .withResources(PodSpecs.resources(r))
            .build();
    PodTemplateSpecBuilder template =
        template(job, settings, rendered, Labels.TRAINER, container, true);
    return PodSpecs.scheduling(template.editSpec(), r).endSpec().build();
  }

  private static ContainerBuilder container(
      FineTuneJob job,
      FineTuneJobSettings settings,
      TrainerConfigRenderer.Rendered rendered,
      List<String> command) {
    List<String> args = new ArrayList<>(command);
    args.add(TrainerConfigRenderer.CONFIG_PATH);
    List<EnvVar> env = new ArrayList<>();
    // The engine must not download natives or phone home; the image carries them.
    env.add(new EnvVar("DJL_OFFLINE", "true", null));
    env.add(new EnvVar("OPT_OUT_TRACKING", "true", null));
    // The root filesystem is read-only; libraries that write under $HOME write to /tmp.
    env.add(new EnvVar("HOME", "/tmp", null));
    env.addAll(rendered.env());
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(
        new VolumeMountBuilder()
            .withName(TrainerConfigRenderer.CONFIG_VOLUME)
            .withMountPath(TrainerConfigRenderer.CONFIG_DIR)
            .withReadOnly(true)
            .build());
    mounts.add(
        new VolumeMountBuilder()
            .withName(TrainerConfigRenderer.ARTIFACTS_VOLUME)
            .withMountPath(TrainerConfigRenderer.ARTIFACTS_DIR)
            .withSubPath(rendered.artifactSubPath())
            .build());
    mounts.add(
        new VolumeMountBuilder()
            .withName(TrainerConfigRenderer.TMP_VOLUME)
            .withMountPath("/tmp")
            .build());
    mounts.addAll(rendered.mounts());
    String image = job.getSpec().image != null ? job.getSpec().image : settings.trainerImage();
    return new ContainerBuilder()
        .withName(CONTAINER)
        .withImage(image)
        .withImagePullPolicy(settings.imagePullPolicy())
        .withArgs(args)
        .withEnv(env)
        .withVolumeMounts(mounts)
        // The trainer writes its result (or dataset report) as the termination message; when it
        // dies before writing one, the log tail is the next best explanation.
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withSecurityContext(PodSpecs.restrictedContainerSecurity());
  }

  private static PodTemplateSpecBuilder template(
      FineTuneJob job,
      FineTuneJobSettings settings,
      TrainerConfigRenderer.Rendered rendered,
      String component,
      Container container,
      boolean apiAccess) {
    List<Volume> volumes = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName(TrainerConfigRenderer.CONFIG_VOLUME)
            .withNewConfigMap()
            .withName(
                io.kubetune.contract.Contract.configConfigMapName(job.getMetadata().getName()))
            .endConfigMap()
            .build());
    volumes.add(
        new VolumeBuilder()
            .withName(TrainerConfigRenderer.ARTIFACTS_VOLUME)
            .withNewPersistentVolumeClaim()
            .withClaimName(rendered.artifactClaim())
            .endPersistentVolumeClaim()
            .build());
    volumes.add(
        new VolumeBuilder()
            .withName(TrainerConfigRenderer.TMP_VOLUME)
            .withNewEmptyDir()
            .endEmptyDir()
            .build());
    volumes.addAll(rendered.volumes());
    return new PodTemplateSpecBuilder()
        .withNewMetadata()
        .withLabels(Labels.of(job, component))
        .endMetadata()
        .withSpec(
            new PodSpecBuilder()
                .withRestartPolicy("Never")
                .withServiceAccountName(Labels.trainerAccountName(job))
                // Only the trainer talks to the API server (to patch its progress ConfigMap).
                .withAutomountServiceAccountToken(apiAccess)
                .withEnableServiceLinks(false)
                .withSecurityContext(PodSpecs.restrictedPodSecurity(settings.runAsUser()))
                .withContainers(container)
                .withVolumes(volumes)
                .build());
  }
}
