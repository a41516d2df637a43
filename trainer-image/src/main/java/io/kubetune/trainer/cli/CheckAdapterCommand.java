package io.kubetune.trainer.cli;

import io.kubetune.contract.AdapterCheckResult;
import io.kubetune.contract.AdapterChecks;
import io.kubetune.contract.AdapterDigest;
import io.kubetune.contract.Contract;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code check-adapter --dir DIR --max-rank N --target-modules a,b [--expect-digest D]}: the checks
 * the operator runs before registering an adapter on DJL Serving ({@link AdapterChecks}), for
 * namespaces whose artifact store the operator cannot read itself. The verdict is printed and
 * becomes the termination message; nothing is loaded into an engine, so it runs in a small CPU pod.
 */
@Command(
    name = "check-adapter",
    description = {
      "Check a PEFT adapter folder before serving it: adapter_config.json readable, rank within",
      "the limit, bias none, no modules_to_save, no DoRA, supported target modules, no Python code,",
      "safetensors weights, digest as recorded. Exits 0 when it may be served, "
          + AdapterChecks.REFUSED_EXIT_CODE
          + " when refused."
    },
    mixinStandardHelpOptions = true)
final class CheckAdapterCommand extends CommandSupport implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--dir",
      required = true,
      paramLabel = "DIR",
      description = "The adapter folder (adapter_config.json, adapter_model.safetensors).")
  Path dir;

  @Option(
      names = "--max-rank",
      required = true,
      paramLabel = "N",
      description = "The server's option.max_lora_rank; adapters of a higher rank are refused.")
  int maxRank;

  @Option(
      names = "--target-modules",
      required = true,
      split = ",",
      paramLabel = "MODULE",
      description = "Module names the base model has (comma separated), e.g. q_proj,v_proj.")
  List<String> targetModules;

  @Option(
      names = "--expect-digest",
      paramLabel = "DIGEST",
      description = "The recorded sha256:<hex> digest; the files must match it.")
  String expectDigest;

  CheckAdapterCommand(TrainerServices services) {
    super(services);
  }

  @Override
  public Integer call() {
    if (maxRank < 1) {
      throw new ParameterException(spec.commandLine(), "--max-rank must be at least 1");
    }
    Set<String> modules = new LinkedHashSet<>();
    targetModules.stream().map(String::trim).filter(m -> !m.isEmpty()).forEach(modules::add);
    if (modules.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--target-modules must name a module");
    }
    String expected = expectDigest == null || expectDigest.isBlank() ? null : expectDigest.trim();
    if (expected != null && !AdapterDigest.isWellFormed(expected)) {
      throw new ParameterException(
          spec.commandLine(),
          "--expect-digest must be sha256:<64 lower-case hex>, not '" + expected + "'");
    }
    AdapterCheckResult verdict;
    try {
      verdict = new AdapterChecks(maxRank, modules).check(dir, expected);
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      // Anything else is a bug in the checks: report it like the other commands do.
      return fail(e, false);
    }
    services.out().println(Contract.write(verdict));
    services.out().flush();
    services.termination().write(verdict);
    if (!verdict.ok()) {
      services.err().println("error: " + verdict.reason() + ": " + verdict.message());
      services.err().flush();
      return AdapterChecks.REFUSED_EXIT_CODE;
    }
    return 0;
  }
}
