/**
 * Full and partial fine-tuning (which base weights train), optimizer memory, and the Hugging Face
 * full-model exporter; also the {@code pretrain} entry point that builds the quick-start model.
 */
package io.kubetune.trainer.full;
