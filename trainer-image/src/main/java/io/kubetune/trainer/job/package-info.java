/**
 * The trainer's jobs end to end: {@code train}, {@code validate-dataset}, {@code generate} and
 * {@code eval} wired to the model, data, LoRA, training and export code; the CLI reaches them
 * through the interfaces of {@link io.kubetune.trainer.cli}.
 */
package io.kubetune.trainer.job;
