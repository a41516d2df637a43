/** The kubetune trainer: LoRA/QLoRA fine-tuning of Llama-family models on DJL. */
package io.kubetune.trainer;
