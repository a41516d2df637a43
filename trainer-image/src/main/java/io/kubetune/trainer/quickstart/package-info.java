/** The local quick start: LoRA fine-tuning of the shipped pre-trained model on CPU. */
package io.kubetune.trainer.quickstart;
