/**
 * LoRA: low-rank adapters wrapped around the frozen linear projections of the decoder, initialised
 * and scaled exactly as Hugging Face PEFT does so that adapters move freely between the two.
 */
package io.kubetune.trainer.lora;
