package io.kubetune.trainer.cli;

import io.kubetune.contract.FailureReason;
import io.kubetune.trainer.full.PretrainCommand;
import io.kubetune.trainer.merge.MergeCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code kubetune-trainer} command: {@code train}, {@code validate-dataset}, {@code
 * check-adapter}, {@code generate}, {@code eval}. Exit codes follow {@link FailureReason}
 * (docs/trainer-contract.md); usage errors exit 2 like an invalid config.
 */
@Command(
    name = "kubetune-trainer",
    mixinStandardHelpOptions = true,
    versionProvider = TrainerMain.Version.class,
    description = "Fine-tunes Llama-family models with LoRA and writes PEFT adapters.",
    subcommands = {
      TrainCommand.class,
      ValidateDatasetCommand.class,
      CheckAdapterCommand.class,
      GenerateCommand.class,
      EvalCommand.class,
      MergeCommand.class,
      PretrainCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 ok, 1 internal error, 2 invalid config or usage,",
      "3 invalid dataset, 4 model not found or unreadable, 5 training diverged,",
      "6 out of memory, 7 adapter refused (check-adapter),",
      "143 stopped by SIGTERM after a checkpoint."
    })
public final class TrainerMain implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(TrainerMain.class);

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand: train, validate-dataset, generate or eval");
  }

  /** Runs the command line with the production wiring and exits with its code. */
  public static void main(String[] args) {
    TrainerServices services = TrainerServices.defaults();
    GracefulShutdown shutdown =
        new GracefulShutdown(services.stop(), GracefulShutdown.graceFrom(System.getenv()))
            .install();
    int code = run(services, args);
    shutdown.finished(code);
    // During a SIGTERM shutdown System.exit would block forever; the shutdown hook ends the JVM.
    if (!shutdown.inProgress()) {
      System.exit(code);
    }
  }

  /** Runs the command line against {@code services} and returns the exit code. */
  public static int run(TrainerServices services, String... args) {
    CommandLine cl = commandLine(services);
    return cl.execute(args);
  }

  /** The configured picocli command line; subcommands are created with {@code services}. */
  static CommandLine commandLine(TrainerServices services) {
    CommandLine cl = new CommandLine(new TrainerMain(), new Factory(services));
    cl.setOut(new PrintWriter(services.out(), true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(services.err(), true, StandardCharsets.UTF_8));
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine c = ex.getCommandLine();
          c.getErr()
              .println(
                  "error: "
                      + ex.getMessage()
                      + "; run '"
                      + c.getCommandSpec().qualifiedName()
                      + " --help' for usage");
          c.getErr().flush();
          return FailureReason.CONFIG_INVALID.exitCode();
        });
    cl.setExecutionExceptionHandler(
        (ex, c, parseResult) -> {
          // Commands handle their own failures; this guards against one that escapes.
          c.getErr().println("error: " + Failures.message(ex));
          c.getErr().flush();
          LOG.debug("unhandled failure", ex);
          return Failures.classify(ex).exitCode();
        });
    return cl;
  }

  /** Creates subcommands with the shared services. */
  private static final class Factory implements CommandLine.IFactory {
    private final TrainerServices services;

    Factory(TrainerServices services) {
      this.services = services;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
      if (cls == TrainCommand.class) {
        return cls.cast(new TrainCommand(services));
      }
      if (cls == ValidateDatasetCommand.class) {
        return cls.cast(new ValidateDatasetCommand(services));
      }
      if (cls == CheckAdapterCommand.class) {
        return cls.cast(new CheckAdapterCommand(services));
      }
      if (cls == GenerateCommand.class) {
        return cls.cast(new GenerateCommand(services));
      }
      if (cls == EvalCommand.class) {
        return cls.cast(new EvalCommand(services));
      }
      return CommandLine.defaultFactory().create(cls);
    }
  }

  /** The version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = TrainerMain.class.getPackage().getImplementationVersion();
      return new String[] {"kubetune-trainer " + (v == null ? "(development build)" : v)};
    }
  }
}
