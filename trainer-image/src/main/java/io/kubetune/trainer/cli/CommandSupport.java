package io.kubetune.trainer.cli;

import io.kubetune.contract.Contract;
import io.kubetune.contract.FailureReason;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every subcommand does the same way: load the config, report a failure, exit. */
abstract class CommandSupport {
  private static final Logger LOG = LoggerFactory.getLogger(CommandSupport.class);

  /** Stopped on request without failing: the conventional status of a SIGTERM-ed process. */
  static final int STOPPED_EXIT_CODE = 143;

  final TrainerServices services;

  CommandSupport(TrainerServices services) {
    this.services = services;
  }

  /** Loads and validates the config. */
  TrainerConfig loadConfig(Path file, ConfigValidator.Purpose purpose) {
    TrainerConfig config = ConfigLoader.load(file);
    ConfigValidator.check(config, purpose);
    return config;
  }

  /**
   * Reports a failure: one line per problem on stderr (the stack trace only at debug level), the
   * result as termination message, and the reason's exit code.
   */
  int fail(Throwable t, boolean writeTermination) {
    if (Failures.isStop(t) && services.stop().isStopRequested()) {
      // Stopped on request (SIGTERM) before the work finished: not a failure, the next pod
      // resumes.
      String message = "stopped by " + services.stop().reason() + ": " + t.getMessage();
      services.err().println("stopped: " + message);
      services.err().flush();
      if (writeTermination) {
        services
            .termination()
            .write(
                new TrainerResult(
                    Contract.SCHEMA_VERSION, false, null, message, null, null, null, null, null));
      }
      return STOPPED_EXIT_CODE;
    }
    FailureReason reason = Failures.classify(t);
    String message;
    if (t instanceof ConfigException) {
      ConfigException ce = (ConfigException) t;
      ce.problems().forEach(p -> services.err().println("error: " + p));
      message =
          ce.problems().get(0)
              + (ce.problems().size() > 1
                  ? " (and " + (ce.problems().size() - 1) + " more problems)"
                  : "");
    } else {
      message = Failures.message(t);
      services.err().println("error: " + message);
    }
    services.err().flush();
    LOG.debug("failure ({})", reason.reason(), t);
    if (writeTermination) {
      services.termination().write(Failures.result(reason, message));
    }
    return reason.exitCode();
  }

  /** The exit code of a finished run's result. */
  int exitCode(TrainerResult result) {
    if (result.succeeded()) {
      return 0;
    }
    if (result.failure() != null) {
      return result.failure().exitCode();
    }
    return services.stop().isStopRequested()
        ? STOPPED_EXIT_CODE
        : FailureReason.INTERNAL_ERROR.exitCode();
  }

  /**
   * Checks a PEFT adapter folder given on the command line.
   *
   * @throws ConfigException naming the option when the folder is not an adapter
   */
  static Path checkAdapter(Path dir) {
    if (dir == null) {
      return null;
    }
    if (!Files.isDirectory(dir)) {
      throw ConfigException.of(
          "--adapter", "folder " + dir + " does not exist", "pass the adapter folder of a run");
    }
    for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors"}) {
      if (!Files.isRegularFile(dir.resolve(f))) {
        throw ConfigException.of(
            "--adapter",
            "folder " + dir + " lacks " + f,
            "pass a PEFT adapter folder written by 'kubetune-trainer train'");
      }
    }
    return dir;
  }
}
