package io.kubetune.operator.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed CRDs ({@code crds/} and the chart's copy) must equal what the build generates from
 * the API types, so that users installing from Git or the chart get the schema the operator was
 * built with.
 */
class CrdsUpToDateTest {
  private static final String FIX =
      "crds/ is stale: run `mvn -B -ntp -pl operator -am package -DskipTests` and commit crds/ and"
          + " charts/kubetune/crds/";

  private static final Path GENERATED = Path.of("target", "classes", "META-INF", "fabric8");
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @Test
  void committedCrdsMatchTheGeneratedOnes() throws IOException {
    assertCopyMatches(REPO.resolve("crds"));
  }

  @Test
  void chartCrdsMatchTheGeneratedOnes() throws IOException {
    assertCopyMatches(REPO.resolve("charts").resolve("kubetune").resolve("crds"));
  }

  private static void assertCopyMatches(Path committed) throws IOException {
    List<Path> generated = crdFiles(GENERATED);
    assertFalse(generated.isEmpty(), "the CRD generator wrote nothing to " + GENERATED);
    if (!Files.isDirectory(committed)) {
      fail(FIX + " (" + REPO.relativize(committed) + " does not exist)");
    }
    assertEquals(names(generated), names(crdFiles(committed)), FIX + " (file set differs)");
    for (Path file : generated) {
      String fresh = Files.readString(file);
      String old = Files.readString(committed.resolve(file.getFileName()));
      assertEquals(fresh, old, FIX + " (" + file.getFileName() + " differs)");
    }
  }

  private static List<Path> crdFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith("-v1.yml")).sorted().toList();
    }
  }

  private static TreeSet<String> names(List<Path> files) {
    TreeSet<String> names = new TreeSet<>();
    files.forEach(f -> names.add(f.getFileName().toString()));
    return names;
  }
}
