/**
 * The fine-tuning loop: AdamW, learning-rate schedules, gradient clipping and accumulation,
 * evaluation and best-checkpoint selection, with the step semantics of the Hugging Face Trainer.
 */
package io.kubetune.trainer.train;
