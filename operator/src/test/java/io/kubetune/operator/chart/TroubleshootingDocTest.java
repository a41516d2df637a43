package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.FailureReason;
import io.kubetune.operator.api.v1alpha1.Reasons;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * docs/troubleshooting.md has a row for every condition reason the operator and the trainer can set
 * and for every dataset error code, so a user who sees one finds what to do.
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
