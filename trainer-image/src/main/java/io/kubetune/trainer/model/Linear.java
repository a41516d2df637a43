package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A linear projection {@code y = x W^T (+ b)} of the decoder, addressed by its Hugging Face module
 * name (e.g. {@code model.layers.3.self_attn.q_proj}).
 *
 * <p>This is the seam between the model and the fine-tuning methods: the model only ever calls
 * {@link #forward}; LoRA wraps a frozen projection and adds its low-rank update, QLoRA replaces the
 * dense weight by NF4 blocks dequantized on the fly, and full/partial fine-tuning mark the dense
 * weight trainable.
 */
public interface Linear {

  /** Applies the projection to {@code x} of shape {@code [..., inFeatures]}. */
  NDArray forward(NDArray x);

  /** Input width. */
  int inFeatures();

  /** Output width. */
  int outFeatures();

  /** Arrays that receive gradients and optimizer updates; empty when frozen. */
  List<NDArray> trainableParameters();
}
