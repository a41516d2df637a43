package io.kubetune.contract;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a fine-tuning method cost in memory, as the trainer measured it: the figures that tell
 * {@code lora}, {@code qlora}, {@code full} and {@code partial} apart.
 *
 * @param method lora, qlora, full or partial
 * @param trainableParameters scalars the optimizer updates
 * @param totalParameters scalars of the base model (before LoRA)
 * @param optimizerStateBytes bytes of AdamW state (two f32 moments per trainable scalar)
 * @param baseWeightBytes resident bytes of the base model's weights (NF4 plus constants for the
 *     quantized projections of qlora, fp32 otherwise)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MethodFootprint(
    String method,
    Long trainableParameters,
    Long totalParameters,
    Long optimizerStateBytes,
    Long baseWeightBytes) {}
