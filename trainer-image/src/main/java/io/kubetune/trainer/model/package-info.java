/**
 * The Llama-family decoder built from a Hugging Face {@code config.json} and safetensors weights.
 */
package io.kubetune.trainer.model;
