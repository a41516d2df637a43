/**
 * The {@code kubetune-trainer} command line: config loading and validation, exit codes and the
 * termination message per docs/trainer-contract.md, SIGTERM handling, and the small interfaces
 * ({@link io.kubetune.trainer.cli.TrainingRunner}, {@link
 * io.kubetune.trainer.cli.DatasetValidation}, {@link io.kubetune.trainer.cli.Generation}, {@link
 * io.kubetune.trainer.cli.Evaluation}) through which the subcommands reach the model, data and
 * training code.
 */
package io.kubetune.trainer.cli;
