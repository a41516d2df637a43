package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Where a base model comes from. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelSource {
  /** URI pattern accepted for base models. */
  public static final String URI_PATTERN =
      "^(hf://[A-Za-z0-9][-A-Za-z0-9_.]*/[-A-Za-z0-9_.]+|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[^/].*)?)$";

  /** Model location: hf://org/name (Hugging Face Hub) or pvc://claim/path (a folder on a PVC). */
  @JsonPropertyDescription(
      "Model location: hf://org/name for the Hugging Face Hub or pvc://claim/path for a folder"
          + " with config.json, tokenizer.json and *.safetensors on a PersistentVolumeClaim.")
  @Required
  @Pattern(URI_PATTERN)
  @Size(max = 1024)
  public String uri;

  /** Hub revision (branch, tag or commit) for hf:// models. */
  @JsonPropertyDescription("Hub revision (branch, tag or commit) for hf:// models.")
  @Size(max = 256)
  public String revision;

  /** Secret key holding a Hugging Face token, for gated or private hf:// models. */
  @JsonPropertyDescription(
      "Secret key holding a Hugging Face token, for gated or private hf:// models. It is"
          + " exposed to the trainer as the HF_TOKEN environment variable.")
  public SecretKeyRef secretRef;
}
