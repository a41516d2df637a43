package io.kubetune.operator.pods;

import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.PodSpecFluent;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.kubetune.operator.api.v1alpha1.ResourcesSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Pod template pieces shared by the trainer pods and the model server pods: resources and
 * scheduling from {@code spec.resources}, and the restricted Pod Security profile (non-root,
 * read-only root filesystem, no capabilities, RuntimeDefault seccomp).
 */
public final class PodSpecs {
  private PodSpecs() {}

  /**
   * Container resources from {@code spec.resources}: requests equal limits, so GPU pods get the
   * Guaranteed QoS class and GPUs (an extended resource) are never overcommitted.
   */
  public static ResourceRequirements resources(ResourcesSpec r) {
    Map<String, Quantity> requests = new LinkedHashMap<>();
    Map<String, Quantity> limits = new LinkedHashMap<>();
    if (r.cpu != null) {
      requests.put("cpu", r.cpu);
      limits.put("cpu", r.cpu);
    }
    if (r.memory != null) {
      requests.put("memory", r.memory);
      limits.put("memory", r.memory);
    }
    if (r.gpus != null && r.gpus > 0) {
      Quantity gpus = new Quantity(Integer.toString(r.gpus));
      requests.put(r.gpuResourceName, gpus);
      limits.put(r.gpuResourceName, gpus);
    }
    return new ResourceRequirementsBuilder().withRequests(requests).withLimits(limits).build();
  }

  /** Applies the scheduling constraints of {@code spec.resources} to a pod spec. */
  public static <T extends PodSpecFluent<T>> T scheduling(T spec, ResourcesSpec r) {
    return spec.withNodeSelector(r.nodeSelector)
        .withTolerations(r.tolerations)
        .withAffinity(r.affinity)
        .withPriorityClassName(r.priorityClassName)
        .withRuntimeClassName(r.runtimeClassName);
  }

  /** A container security context that satisfies the restricted Pod Security profile. */
  public static SecurityContext restrictedContainerSecurity() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withRunAsNonRoot(true)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .build();
  }

  /**
   * A pod security context that satisfies the restricted Pod Security profile, running as {@code
   * runAsUser} (also the group and the volume group, so mounted volumes are writable).
   */
  public static PodSecurityContext restrictedPodSecurity(long runAsUser) {
    return new PodSecurityContextBuilder()
        .withRunAsNonRoot(true)
        .withRunAsUser(runAsUser)
        .withRunAsGroup(runAsUser)
        .withFsGroup(runAsUser)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .build();
  }
}
