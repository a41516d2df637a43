package io.kubetune.trainer.cli;

import io.kubetune.trainer.job.AdapterEvaluation;
import io.kubetune.trainer.job.DatasetCheck;
import io.kubetune.trainer.job.FineTuningRunner;
import io.kubetune.trainer.job.ModelGeneration;
import io.kubetune.trainer.report.KubernetesEnvironment;
import io.kubetune.trainer.report.TerminationMessage;
import io.kubetune.trainer.source.ModelSource;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the subcommands work with: the implementations of the real work, the environment and the
 * output streams. Tests build one with fakes; {@link #defaults()} is the production wiring.
 *
 * @param training runs {@code train}
 * @param datasetValidation runs {@code validate-dataset}
 * @param generation runs {@code generate}
 * @param evaluation runs {@code eval}
 * @param models resolves the base model to a folder
 * @param kube the cluster environment (progress ConfigMap)
 * @param termination the termination message file
 * @param stop set on SIGTERM
 * @param out progress JSON lines and command output
 * @param err error lines
 */
public record TrainerServices(
    TrainingRunner training,
    DatasetValidation datasetValidation,
    Generation generation,
    Evaluation evaluation,
    ModelResolver models,
    KubernetesEnvironment kube,
    TerminationMessage termination,
    StopSignal stop,
    PrintStream out,
    PrintStream err) {

  /**
   * The production wiring over the process environment: the subcommands run the model, data,
   * training and export code of {@link io.kubetune.trainer.job}.
   */
  public static TrainerServices defaults() {
    Map<String, String> env = System.getenv();
    String termination = env.get(TerminationMessage.PATH_ENV);
    StopSignal stop = new StopSignal();
    // SIGTERM during a download stops it between chunks; the partial file resumes next time.
    ModelSource source = new ModelSource(env, b -> b.optCancelled(stop::isStopRequested));
    return new TrainerServices(
        new FineTuningRunner(),
        new DatasetCheck(),
        new ModelGeneration(),
        new AdapterEvaluation(),
        source::resolve,
        KubernetesEnvironment.system(),
        new TerminationMessage(
            termination == null || termination.isBlank()
                ? TerminationMessage.DEFAULT_PATH
                : Path.of(termination)),
        stop,
        System.out,
        System.err);
  }

  /** A copy with another training runner. */
  public TrainerServices withTraining(TrainingRunner runner) {
    return new TrainerServices(
        runner,
        datasetValidation,
        generation,
        evaluation,
        models,
        kube,
        termination,
        stop,
        out,
        err);
  }

  /** A copy with another dataset validation. */
  public TrainerServices withDatasetValidation(DatasetValidation validation) {
    return new TrainerServices(
        training, validation, generation, evaluation, models, kube, termination, stop, out, err);
  }

  /** A copy with another generation. */
  public TrainerServices withGeneration(Generation gen) {
    return new TrainerServices(
        training, datasetValidation, gen, evaluation, models, kube, termination, stop, out, err);
  }

  /** A copy with another evaluation. */
  public TrainerServices withEvaluation(Evaluation eval) {
    return new TrainerServices(
        training, datasetValidation, generation, eval, models, kube, termination, stop, out, err);
  }
}
