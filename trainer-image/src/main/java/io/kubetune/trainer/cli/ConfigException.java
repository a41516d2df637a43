package io.kubetune.trainer.cli;

import java.util.List;

/** The trainer config cannot be used; carries every problem found, first one first. */
public class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient List<ConfigProblem> problems;

  /** Creates an exception for the given problems (at least one). */
  public ConfigException(List<ConfigProblem> problems) {
    super(problems.get(0).toString());
    this.problems = List.copyOf(problems);
  }

  /** Creates an exception for one problem. */
  public static ConfigException of(String field, String problem, String fix) {
    return new ConfigException(List.of(new ConfigProblem(field, problem, fix)));
  }

  /** Every problem found. */
  public List<ConfigProblem> problems() {
    return problems;
  }
}
