package io.kubetune.trainer.cli;

import io.kubetune.contract.TrainerConfig;
import io.kubetune.trainer.report.ProgressReporter;
import java.nio.file.Path;

/**
 * Everything a {@link TrainingRunner} gets for one run.
 *
 * @param config the validated trainer config
 * @param modelDir local folder with the base model's config, tokenizer and safetensors weights
 * @param progress where to report progress (already reported: STARTING, LOADING_MODEL)
 * @param stop set on SIGTERM: checkpoint and return
 */
public record TrainingJob(
    TrainerConfig config, Path modelDir, ProgressReporter progress, StopSignal stop) {}
