package io.kubetune.trainer.export;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * {@code adapter_config.json} of a PEFT LoRA adapter: the fields PEFT 0.21 needs to load it and
 * that DJL Serving checks before registering it. Unknown fields (PEFT writes many more) are ignored
 * on reading.
 *
 * @param peftType always {@code LORA}
 * @param taskType always {@code CAUSAL_LM}
 * @param baseModelNameOrPath the base model the adapter belongs to
 * @param r rank
 * @param loraAlpha alpha
 * @param loraDropout dropout used in training
 * @param targetModules module-name suffixes (or full module names) that carry an adapter
 * @param bias always {@code none}
 * @param useRslora whether the scale is {@code alpha / sqrt(r)}
 * @param useDora always false
 * @param modulesToSave always null
 * @param fanInFanOut false for Llama's {@code nn.Linear}
 * @param inferenceMode true in saved adapters
 * @param initLoraWeights PEFT's default initialisation was used
 * @param rankPattern per-module rank overrides (unsupported: must be empty)
 * @param alphaPattern per-module alpha overrides (unsupported: must be empty)
 * @param layersToTransform restricts layers (unsupported: must be null)
 * @param layersPattern used with layersToTransform
 * @param revision base model revision
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonIgnoreProperties(ignoreUnknown = true)
public record PeftAdapterConfig(
    @JsonProperty("peft_type") String peftType,
    @JsonProperty("task_type") String taskType,
    @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
    @JsonProperty("r") Integer r,
    @JsonProperty("lora_alpha") Number loraAlpha,
    @JsonProperty("lora_dropout") Double loraDropout,
    @JsonProperty("target_modules") List<String> targetModules,
    @JsonProperty("bias") String bias,
    @JsonProperty("use_rslora") Boolean useRslora,
    @JsonProperty("use_dora") Boolean useDora,
    @JsonProperty("modules_to_save") List<String> modulesToSave,
    @JsonProperty("fan_in_fan_out") Boolean fanInFanOut,
    @JsonProperty("inference_mode") Boolean inferenceMode,
    @JsonProperty("init_lora_weights") Boolean initLoraWeights,
    @JsonProperty("rank_pattern") Map<String, Object> rankPattern,
    @JsonProperty("alpha_pattern") Map<String, Object> alphaPattern,
    @JsonProperty("layers_to_transform") Object layersToTransform,
    @JsonProperty("layers_pattern") Object layersPattern,
    @JsonProperty("revision") String revision) {}
