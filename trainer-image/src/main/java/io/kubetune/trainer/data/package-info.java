/**
 * Dataset reading, validation, chat templating and tokenization for fine-tuning.
 *
 * <p>{@link io.kubetune.trainer.data.DatasetPipeline#prepare} turns JSONL files into {@link
 * io.kubetune.trainer.data.TokenizedExample}s for training; {@link
 * io.kubetune.trainer.data.DatasetValidator#validate} streams the same checks without keeping the
 * examples. Both report problems as {@link io.kubetune.contract.DatasetReport}s with line-numbered
 * {@link io.kubetune.contract.DatasetErrorCode}s.
 */
package io.kubetune.trainer.data;
