package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.AdapterChecks;
import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.FailureReason;
import io.kubetune.operator.api.v1alpha1.Reasons;
import io.kubetune.operator.modelserver.AdapterSynchronizer;
import io.kubetune.operator.modelserver.DjlServingException;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * docs/troubleshooting.md has a row for every condition reason the operator and the trainer can set
 * (FineTuneJob and AdapterDeployment, including per-adapter reasons) and for every dataset error
 * code, so a user who sees one finds what to do.
 */
class TroubleshootingDocTest {

  private static final Path DOC = Charts.repositoryRoot().resolve("docs/troubleshooting.md");

  @Test
  void everyConditionReasonHasARow() throws IOException, IllegalAccessException {
    Set<String> reasons = new TreeSet<>();
    for (Field field : Reasons.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        reasons.add((String) field.get(null));
      }
    }
    for (FailureReason reason : FailureReason.values()) {
      reasons.add(reason.reason());
    }
    assertEquals(Set.of(), missingRows(reasons), "reasons without a row in " + DOC);
  }

  @Test
  void everyAdapterDeploymentReasonHasARow() throws Exception {
    Set<String> reasons = new TreeSet<>();
    // Condition and per-adapter reasons live next to the code that sets them, some package-private.
    for (Class<?> type :
        List.of(
            Class.forName("io.kubetune.operator.adapter.AdapterSources$Reasons"),
            Class.forName("io.kubetune.operator.adapter.AdapterCheckJobs$Reasons"),
            Class.forName(
                "io.kubetune.operator.adapter.AdapterDeploymentStatusComputer$StatusReasons"),
            AdapterChecks.Reasons.class,
            AdapterSynchronizer.class)) {
      reasons.addAll(stringConstants(type));
    }
    for (DjlServingException.Reason reason : DjlServingException.Reason.values()) {
      reasons.add(reason.reason());
    }
    assertTrue(reasons.size() >= 40, "reasons found: " + reasons);
    assertEquals(Set.of(), missingRows(reasons), "adapter reasons without a row in " + DOC);
  }

  /** The CamelCase String constants of {@code type}, private or not. */
  private static Set<String> stringConstants(Class<?> type) throws IllegalAccessException {
    Set<String> out = new TreeSet<>();
    for (Field field : type.getDeclaredFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        field.setAccessible(true);
        String value = (String) field.get(null);
        if (value.matches("[A-Z][a-z]+([A-Z][a-z]*)*")) {
          out.add(value);
        }
      }
    }
    return out;
  }

  @Test
  void everyDatasetErrorCodeHasARow() throws IOException {
    Set<String> codes = new TreeSet<>();
    for (DatasetErrorCode code : DatasetErrorCode.values()) {
      codes.add(code.name());
    }
    assertEquals(Set.of(), missingRows(codes), "dataset error codes without a row in " + DOC);
  }

  private static Set<String> missingRows(Set<String> names) throws IOException {
    String doc = Files.readString(DOC);
    Set<String> missing = new TreeSet<>();
    for (String name : names) {
      if (!doc.contains("| `" + name + "` |")) {
        missing.add(name);
      }
    }
    return missing;
  }
}
