package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Compute resources and scheduling constraints of a pod. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ResourcesSpec {
  /** GPUs per pod; 0 runs on CPU (slow, for small models and tests). */
  @JsonPropertyDescription("GPUs per pod; 0 runs on CPU (slow, for small models and tests).")
  @Min(0)
  @Max(16)
  @Default("1")
  public Integer gpus = 1;

  /** Extended resource name of the GPU. */
  @JsonPropertyDescription("Extended resource name of the GPU, such as nvidia.com/gpu.")
  @Pattern("^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
  @Default("nvidia.com/gpu")
  public String gpuResourceName = "nvidia.com/gpu";

  /** CPU request and limit, such as 4 or 500m. */
  @JsonPropertyDescription("CPU request and limit, such as 4 or 500m.")
  public Quantity cpu;

  /** Memory request and limit, such as 32Gi. */
  @JsonPropertyDescription("Memory request and limit, such as 32Gi.")
  public Quantity memory;

  /** Node labels the pod must match. */
  @JsonPropertyDescription("Node labels the pod must match.")
  public Map<String, String> nodeSelector;

  /** Tolerations, for example for tainted GPU nodes. */
  @JsonPropertyDescription("Tolerations, for example for tainted GPU nodes.")
  @Size(max = 64)
  public List<Toleration> tolerations;

  /** Node and pod affinity. */
  @JsonPropertyDescription("Node and pod affinity.")
  public Affinity affinity;

  /** PriorityClass of the pod. */
  @JsonPropertyDescription("PriorityClass of the pod.")
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  public String priorityClassName;

  /** RuntimeClass of the pod, such as nvidia. */
  @JsonPropertyDescription("RuntimeClass of the pod, such as nvidia.")
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  public String runtimeClassName;
}
