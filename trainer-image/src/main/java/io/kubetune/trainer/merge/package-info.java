/** Folding a LoRA adapter into its base model's weights and writing a plain HF model. */
package io.kubetune.trainer.merge;
