package io.kubetune.contract;

/**
 * The exported PEFT adapter.
 *
 * @param path adapter folder on the artifact store
 * @param digest {@code sha256:<hex>} over adapter_config.json and adapter_model.safetensors
 * @param rank LoRA rank
 * @param baseModel the base model URI the adapter was trained on
 */
public record AdapterInfo(String path, String digest, Integer rank, String baseModel) {}
