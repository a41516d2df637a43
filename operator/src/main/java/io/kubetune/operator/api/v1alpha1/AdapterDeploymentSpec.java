package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A served base model and the adapters loaded onto it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@SchemaCustomizer(value = ListMapCustomizer.class, input = "adapters:name")
@ValidationRule(
    value = "self.baseModel == oldSelf.baseModel",
    message = "baseModel is immutable: create a new AdapterDeployment to serve another base model",
    reason = "FieldValueForbidden",
    fieldPath = ".baseModel")
public class AdapterDeploymentSpec {
  /** The base model every adapter must have been trained on. */
  @JsonPropertyDescription("The base model every adapter must have been trained on.")
  @Required
  public ServedModel baseModel;

  /** Serving pods. */
  @JsonPropertyDescription("Serving pods; each holds the base model and every enabled adapter.")
  @Min(0)
  @Max(64)
  @Default("1")
  public Integer replicas = 1;

  /** GPUs, CPU, memory and scheduling constraints of each serving pod. */
  @JsonPropertyDescription("GPUs, CPU, memory and scheduling constraints of each serving pod.")
  @Default("{}")
  public ResourcesSpec resources = new ResourcesSpec();

  /** The serving container. */
  @JsonPropertyDescription("The serving container: image, extra environment and properties.")
  @Default("{}")
  public ServingSpec serving = new ServingSpec();

  /** LoRA slots of the serving engine. */
  @JsonPropertyDescription("LoRA slots of the serving engine (option.max_loras and friends).")
  @Default("{}")
  public LoraServingSpec lora = new LoraServingSpec();

  /** Adapters to load, keyed by name. */
  @JsonPropertyDescription(
      "Adapters to load, keyed by name. Adding, removing or disabling one changes the running"
          + " pods' adapter set without restarting them.")
  @Size(max = 256)
  public List<AdapterEntry> adapters = new ArrayList<>();

  /** The served base model. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ServedModel {
    /** Model location: hf://org/name or pvc://claim/path. */
    @JsonPropertyDescription("Model location: hf://org/name or pvc://claim/path.")
    @Required
    @Pattern(ModelSource.URI_PATTERN)
    @Size(max = 1024)
    public String uri;

    /** Model name clients use; defaults to the AdapterDeployment name. */
    @JsonPropertyDescription("Model name clients use; defaults to the AdapterDeployment name.")
    @Pattern("^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$")
    @Size(max = 128)
    public String servedName;

    /** Secret key holding a Hugging Face token. */
    @JsonPropertyDescription("Secret key holding a Hugging Face token for gated hf:// models.")
    public SecretKeyRef secretRef;
  }

  /** The serving container. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ServingSpec {
    /** DJL Serving LMI image; defaults to the operator's pinned image. */
    @JsonPropertyDescription("DJL Serving LMI image; defaults to the operator's pinned image.")
    @Size(min = 1, max = 512)
    public String image;

    /** Extra environment variables (OPTION_* become option.* properties). */
    @JsonPropertyDescription(
        "Extra environment variables of the serving container (OPTION_X=v sets option.x=v).")
    @Size(max = 128)
    public List<EnvVar> env;

    /** Extra serving.properties entries. */
    @JsonPropertyDescription(
        "Extra serving.properties entries, such as option.tensor_parallel_degree: \"2\". LoRA"
            + " options come from spec.lora.")
    public Map<String, String> properties;
  }

  /** LoRA capacity of the serving engine. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "!has(self.maxCpuLoras) || self.maxCpuLoras >= self.maxLoras",
      message = "maxCpuLoras must be at least maxLoras",
      fieldPath = ".maxCpuLoras")
  @ValidationRule(
      value = "self.maxLoraRank in [1, 8, 16, 32, 64, 128, 256, 320, 512]",
      message = "maxLoraRank must be one of 1, 8, 16, 32, 64, 128, 256, 320, 512 (vLLM's set)",
      fieldPath = ".maxLoraRank")
  public static class LoraServingSpec {
    /** Ranks vLLM accepts for max_lora_rank. */
    public static final List<Integer> ALLOWED_MAX_LORA_RANKS =
        List.of(1, 8, 16, 32, 64, 128, 256, 320, 512);

    /** Adapters active on the GPU at once (option.max_loras). */
    @JsonPropertyDescription("Adapters active on the GPU at once (option.max_loras).")
    @Min(1)
    @Max(256)
    @Default("4")
    public Integer maxLoras = 4;

    /** Largest adapter rank accepted (option.max_lora_rank). */
    @JsonPropertyDescription(
        "Largest adapter rank accepted (option.max_lora_rank): 1, 8, 16, 32, 64, 128, 256, 320"
            + " or 512. Adapters with a larger rank are refused.")
    @Default("64")
    public Integer maxLoraRank = 64;

    /** Adapters cached in CPU memory (option.max_cpu_loras); at least maxLoras. */
    @JsonPropertyDescription(
        "Adapters cached in CPU memory (option.max_cpu_loras); at least maxLoras. Defaults to"
            + " maxLoras (it is fixed when a pod starts, so it does not follow the adapter"
            + " count).")
    @Min(1)
    @Max(4096)
    public Integer maxCpuLoras;

    /** Data type of adapter weights on the GPU. */
    @JsonPropertyDescription("Data type of adapter weights on the GPU: auto, float16 or bfloat16.")
    @Default("auto")
    @Pattern("^(auto|float16|bfloat16)$")
    public String loraDtype = "auto";
  }

  /** One adapter to serve. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AdapterEntry {
    /** Adapter name clients pass to select it. */
    @JsonPropertyDescription("Adapter name clients pass in requests (\"adapters\": name).")
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
    @Size(max = 63)
    public String name;

    /** Where the adapter comes from. */
    @JsonPropertyDescription("Where the adapter comes from: a FineTuneJob or a path.")
    @Required
    public AdapterSource source;

    /** Keep the adapter resident (never evicted from the GPU slots). */
    @JsonPropertyDescription("Keep the adapter resident in a GPU slot (never evicted).")
    @Default("false")
    public Boolean pin = false;

    /** Load the adapter; false unloads it but keeps the entry. */
    @JsonPropertyDescription("Load the adapter; false unloads it but keeps the entry.")
    @Default("true")
    public Boolean enabled = true;
  }

  /** Exactly one of fineTuneJobRef or path. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "has(self.fineTuneJobRef) != has(self.path)",
      message = "set exactly one of fineTuneJobRef or path")
  public static class AdapterSource {
    /** A succeeded FineTuneJob in the same namespace; its status.adapter.path is served. */
    @JsonPropertyDescription(
        "A FineTuneJob in the same namespace; its adapter is loaded once it has succeeded.")
    public LocalRef fineTuneJobRef;

    /** An adapter folder: pvc://claim/path. */
    @JsonPropertyDescription(
        "An adapter folder (adapter_config.json + adapter_model.safetensors): pvc://claim/path.")
    @Pattern("^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/[^/].*$")
    @Size(max = 1024)
    public String path;
  }

  /** A reference by name within the namespace. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class LocalRef {
    /** Object name. */
    @JsonPropertyDescription("Object name, in the same namespace.")
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    public String name;
  }
}
