package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kubetune resource under examples/ validates against the generated CRDs (OpenAPI v3 schema
 * and CEL rules) and parses strictly into the API types, so an example can never drift from the
 * API; the validator itself is shown to reject broken resources.
 */
class ExamplesTest {

  static final Path EXAMPLES = Charts.repositoryRoot().resolve("examples");

  /** Folders under examples/ that hold trainer configs for running the trainer locally. */
  static final java.util.Set<String> TRAINER_CONFIG_FOLDERS =
      java.util.Set.of("local", "quickstart");

  private static final Path CRDS = Charts.repositoryRoot().resolve("crds");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper STRICT =
      new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private static CrdValidator fineTuneJobs;
  private static CrdValidator adapterDeployments;

  /** One YAML document of an example file. */
  record Document(Path file, int index, JsonNode node) {
    String kind() {
      return node.path("kind").asText();
    }

    boolean isKubetune() {
      return node.path("apiVersion").asText().startsWith("kubetune.io/");
    }

    @Override
    public String toString() {
      return EXAMPLES.relativize(file) + "#" + index + " " + kind();
    }
  }

  @BeforeAll
  static void loadCrds() throws IOException {
    fineTuneJobs = CrdValidator.forCrd(CRDS.resolve("finetunejobs.kubetune.io-v1.yml"));
    adapterDeployments = CrdValidator.forCrd(CRDS.resolve("adapterdeployments.kubetune.io-v1.yml"));
  }

  static Stream<Document> documents() throws IOException {
    List<Document> documents = new ArrayList<>();
    try (Stream<Path> files = Files.walk(EXAMPLES)) {
      for (Path file :
          files
              .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
              .sorted()
              .toList()) {
        if (file.getFileName().toString().startsWith("values")) {
          continue; // Helm values files, checked by rendering the chart below.
        }
        if (TRAINER_CONFIG_FOLDERS.contains(EXAMPLES.relativize(file).getName(0).toString())) {
          continue; // Trainer CLI configs, not Kubernetes objects; the trainer's tests run them.
        }
        try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
          int index = 0;
          for (JsonNode node : YAML.readValues(parser, JsonNode.class).readAll()) {
            if (node != null && !node.isNull()) {
              documents.add(new Document(file, index++, node));
            }
          }
        }
      }
    }
    return documents.stream();
  }

  static Stream<Document> kubetuneDocuments() throws IOException {
    return documents().filter(Document::isKubetune);
  }

  @Test
  void examplesCoverTheDocumentedUseCases() throws IOException {
    List<JsonNode> jobs =
        kubetuneDocuments()
            .filter(d -> d.kind().equals("FineTuneJob"))
            .map(Document::node)
            .toList();
    assertTrue(has(jobs, j -> j.at("/spec/method/type").asText().equals("qlora")), "QLoRA");
    assertTrue(has(jobs, j -> j.at("/spec/method/type").asText().equals("partial")), "partial");
    assertTrue(has(jobs, j -> j.at("/spec/dataset/train/configMapRef").isObject()), "ConfigMap");
    assertTrue(
        has(jobs, j -> j.at("/spec/dataset/train/uri").asText().startsWith("pvc://")), "PVC");
    assertTrue(has(jobs, j -> j.at("/spec/queueName").isTextual()), "Kueue");
    // AdapterDeployment with two adapters from two FineTuneJobs, one pinned and one not.
    JsonNode adapters =
        kubetuneDocuments()
            .filter(d -> d.kind().equals("AdapterDeployment"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no AdapterDeployment example"))
            .node()
            .at("/spec/adapters");
    assertEquals(2, adapters.size(), adapters.toString());
    List<String> jobRefs = new ArrayList<>();
    List<Boolean> pins = new ArrayList<>();
    adapters.forEach(
        a -> {
          jobRefs.add(a.at("/source/fineTuneJobRef/name").asText());
          pins.add(a.path("pin").asBoolean(false));
        });
    assertEquals(2, jobRefs.stream().filter(n -> !n.isEmpty()).distinct().count(), "two jobs");
    assertTrue(pins.contains(true) && pins.contains(false), "pinned and unpinned: " + pins);
    List<String> kinds = documents().map(Document::kind).toList();
    assertTrue(
        kinds.containsAll(List.of("Application", "LocalQueue", "ClusterQueue", "ResourceFlavor")),
        kinds.toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kubetuneDocuments")
  void kubetuneExampleValidatesAgainstTheCrd(Document document) {
    List<String> problems = validator(document.kind()).validate(document.node());
    assertEquals(List.of(), problems, document.toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kubetuneDocuments")
  void kubetuneExampleParsesStrictlyIntoTheApiTypes(Document document) throws IOException {
    Class<?> type =
        document.kind().equals("FineTuneJob") ? FineTuneJob.class : AdapterDeployment.class;
    assertTrue(STRICT.treeToValue(document.node(), type) != null, document.toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void everyExampleIsAKubernetesObject(Document document) {
    assertFalse(document.node().path("apiVersion").asText().isEmpty(), document + ": apiVersion");
    assertFalse(document.kind().isEmpty(), document + ": kind");
    assertTrue(
        document
            .node()
            .path("metadata")
            .path("name")
            .asText()
            .matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"),
        document + ": metadata.name");
    if (document.kind().equals("ConfigMap")) {
      // A ConfigMap dataset must be JSONL: one JSON object per line.
      document
          .node()
          .path("data")
          .properties()
          .forEach(
              e -> {
                for (String line : e.getValue().asText().split("\n")) {
                  try {
                    assertTrue(new ObjectMapper().readTree(line).isObject(), line);
                  } catch (IOException ex) {
                    throw new AssertionError(
                        document + " " + e.getKey() + ": not JSON: " + line, ex);
                  }
                }
              });
    }
  }

  @Test
  void argoCdApplicationPointsAtFineTuneJobsInThisRepository() throws IOException {
    JsonNode app =
        documents().filter(d -> d.kind().equals("Application")).findFirst().orElseThrow().node();
    Path path = Charts.repositoryRoot().resolve(app.at("/spec/source/path").asText());
    assertTrue(Files.isDirectory(path), "Application source path missing: " + path);
    List<Document> synced = documents().filter(d -> d.file().startsWith(path)).toList();
    assertFalse(synced.isEmpty(), "no manifests under " + path);
    assertTrue(synced.stream().allMatch(d -> d.kind().equals("FineTuneJob")), synced.toString());
    assertFalse(app.at("/spec/syncPolicy/automated/prune").asBoolean(true), "prune must be off");
  }

  @Test
  void productionValuesRender() {
    Path values = EXAMPLES.resolve("values-production.yaml");
    List<HasMetadata> objects =
        Charts.parse(
            new com.marcnuri.helm.Helm(Charts.CHART)
                .template()
                .withName(Charts.RELEASE)
                .withNamespace(Charts.NAMESPACE)
                .withKubeVersion(Charts.KUBE_VERSION)
                .withValuesFile(values)
                .call());
    Deployment deployment = Charts.ofType(objects, Deployment.class).get(0);
    assertEquals(3, deployment.getSpec().getReplicas());
    assertEquals(
        "true",
        ChartTest.env(ChartTest.operatorContainer(objects)).get("KUBETUNE_LEADER_ELECTION"));
  }

  /** Broken variants of a valid example, each with the field the error must name. */
  static Stream<Arguments> brokenFineTuneJobs() {
    return Stream.of(
        broken("wrong enum", "spec.method.type", j -> put(j, "/spec/method", "type", "dora")),
        broken(
            "wrong enum (nested)",
            "spec.dataset.format",
            j -> put(j, "/spec/dataset", "format", "csv")),
        broken(
            "missing required",
            "spec.baseModel.uri",
            j -> ((ObjectNode) j.at("/spec/baseModel")).remove("uri")),
        broken(
            "missing required spec field",
            "spec.dataset",
            j -> ((ObjectNode) j.at("/spec")).remove("dataset")),
        broken(
            "pattern",
            "spec.baseModel.uri",
            j -> put(j, "/spec/baseModel", "uri", "s3://bucket/model")),
        broken("minimum", "spec.method.lora.rank", j -> put(j, "/spec/method/lora", "rank", 0)),
        broken("maximum", "spec.backoffLimit", j -> put(j, "/spec", "backoffLimit", 1000)),
        broken(
            "type", "spec.method.lora.rank", j -> put(j, "/spec/method/lora", "rank", "sixteen")),
        broken(
            "unknown field",
            "spec.hyperparameters.learningrate",
            j -> put(j, "/spec/hyperparameters", "learningrate", "1e-4")),
        broken(
            "CEL: qlora needs quantization",
            "type qlora needs quantization",
            j -> put(j, "/spec/method", "type", "qlora")),
        broken(
            "CEL: validation and validationSplit",
            "validation or validationSplit",
            j -> ((ObjectNode) j.at("/spec/dataset")).put("validationSplit", 0.1)),
        broken(
            "CEL: exactly one data source",
            "exactly one of uri, configMapRef or inline",
            j -> ((ObjectNode) j.at("/spec/dataset/train")).put("inline", "{}")),
        broken(
            "CEL: target modules",
            "targetModules may only name",
            j -> ((ArrayNode) j.at("/spec/method/lora/targetModules")).add("lm_head")),
        broken(
            "CEL: int-or-string auto",
            "must be a positive integer or \"auto\"",
            j -> put(j, "/spec/hyperparameters", "batchSize", "many")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenFineTuneJobs")
  void validatorRejectsABrokenExample(String name, String expected, Consumer<JsonNode> breakIt)
      throws IOException {
    JsonNode job = YAML.readTree(EXAMPLES.resolve("finetunejob.yaml").toFile());
    assertEquals(List.of(), fineTuneJobs.validate(job), "the unbroken example is valid");
    breakIt.accept(job);
    List<String> problems = fineTuneJobs.validate(job);
    assertTrue(
        problems.stream().anyMatch(p -> p.contains(expected)),
        () -> "expected a problem naming '" + expected + "', got " + problems);
  }

  @Test
  void validatorEvaluatesRulesOnDefaultedValues() throws IOException {
    // method.type defaults to lora; the qlora/partial rules must see the default, not fail on a
    // missing field.
    JsonNode job = YAML.readTree(EXAMPLES.resolve("finetunejob.yaml").toFile());
    ((ObjectNode) job.at("/spec/method")).remove("type");
    assertEquals(List.of(), fineTuneJobs.validate(job));
    ((ObjectNode) job.at("/spec/method")).putObject("partial").put("trainableLayers", 2);
    assertFalse(fineTuneJobs.validate(job).isEmpty(), "partial settings on a defaulted lora job");
  }

  private static Arguments broken(String name, String expected, Consumer<JsonNode> change) {
    return Arguments.of(name, expected, change);
  }

  private static void put(JsonNode root, String pointer, String field, Object value) {
    ObjectNode node = (ObjectNode) root.at(pointer);
    node.set(field, new ObjectMapper().valueToTree(value));
  }

  private static boolean has(List<JsonNode> jobs, java.util.function.Predicate<JsonNode> test) {
    return jobs.stream().anyMatch(test);
  }

  private static CrdValidator validator(String kind) {
    return switch (kind) {
      case "FineTuneJob" -> fineTuneJobs;
      case "AdapterDeployment" -> adapterDeployments;
      default -> throw new AssertionError("no CRD for kubetune kind " + kind);
    };
  }
}
