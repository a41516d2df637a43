package io.kubetune.contract;

/**
 * What the trainer exported: a PEFT LoRA adapter ({@code lora}, {@code qlora}) or, for {@code full}
 * and {@code partial} fine-tuning, a complete Hugging Face model folder.
 *
 * @param path output folder on the artifact store
 * @param digest {@code sha256:<hex>}: {@link AdapterDigest} for an adapter, {@link ModelDigest} for
 *     a model
 * @param rank LoRA rank; null for a model
 * @param baseModel the base model URI the output was trained from
 * @param kind {@link #KIND_ADAPTER} or {@link #KIND_MODEL}; null (older trainers) means adapter
 */
public record AdapterInfo(String path, String digest, Integer rank, String baseModel, String kind) {

  /**
   * A PEFT LoRA adapter folder ({@code adapter_config.json}, {@code adapter_model.safetensors}).
   */
  public static final String KIND_ADAPTER = "adapter";

  /**
   * A full Hugging Face model folder ({@code config.json}, {@code model*.safetensors}, tokenizer);
   * it cannot be hot-loaded as an adapter, serve it as a base model.
   */
  public static final String KIND_MODEL = "model";

  /** A PEFT adapter. */
  public AdapterInfo(String path, String digest, Integer rank, String baseModel) {
    this(path, digest, rank, baseModel, KIND_ADAPTER);
  }

  /** Whether {@code kind} names a full model rather than an adapter (null means adapter). */
  public static boolean isModelKind(String kind) {
    return KIND_MODEL.equals(kind);
  }
}
