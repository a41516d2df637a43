package io.kubetune.operator.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reads the generated CRDs and checks they say what the API types intend. */
class CrdSchemaTest {

  static CustomResourceDefinition load(String plural) throws IOException {
    try (InputStream in =
        CrdSchemaTest.class.getResourceAsStream(
            "/META-INF/fabric8/" + plural + ".kubetune.io-v1.yml")) {
      assertNotNull(in, "generated CRD for " + plural + " missing");
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
  }

  private static JSONSchemaProps spec(CustomResourceDefinition crd) {
    return version(crd).getSchema().getOpenAPIV3Schema().getProperties().get("spec");
  }

  private static CustomResourceDefinitionVersion version(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().get(0);
  }

  private static List<String> rules(JSONSchemaProps props) {
    return props.getXKubernetesValidations().stream().map(ValidationRule::getRule).toList();
  }

  @Test
  void fineTuneJobNamesColumnsAndStatus() throws IOException {
    CustomResourceDefinition crd = load("finetunejobs");
    assertEquals(List.of("ftj"), crd.getSpec().getNames().getShortNames());
    assertEquals(List.of("kubetune"), crd.getSpec().getNames().getCategories());
    assertNotNull(version(crd).getSubresources().getStatus(), "status subresource");
    List<String> columns =
        version(crd).getAdditionalPrinterColumns().stream().map(c -> c.getName()).toList();
    assertTrue(
        columns.containsAll(List.of("PHASE", "PROGRESS", "TRAIN-LOSS", "VALID-LOSS", "AGE")),
        columns.toString());
  }

  @Test
  void fineTuneJobSpecIsImmutableExceptSuspendAndDeadline() throws IOException {
    String rule = rules(spec(load("finetunejobs"))).get(0);
    for (String field :
        List.of(
            "baseModel",
            "dataset",
            "method",
            "hyperparameters",
            "output",
            "checkpointing",
            "resources",
            "queueName",
            "image",
            "backoffLimit")) {
      assertTrue(rule.contains("self." + field + " == oldSelf." + field), field);
    }
    assertTrue(!rule.contains("suspend") && !rule.contains("activeDeadlineSeconds"), rule);
  }

  @Test
  void fineTuneJobCrossFieldRulesAndDefaults() throws IOException {
    JSONSchemaProps spec = spec(load("finetunejobs"));
    JSONSchemaProps method = spec.getProperties().get("method");
    assertTrue(rules(method).contains("self.type != 'qlora' || has(self.quantization)"));
    JSONSchemaProps lora = method.getProperties().get("lora");
    assertEquals(512.0, lora.getProperties().get("rank").getMaximum());
    assertEquals("8", lora.getProperties().get("rank").getDefault().asText());
    assertTrue(rules(lora).get(0).contains("'all-linear'"));
    JSONSchemaProps dataset = spec.getProperties().get("dataset");
    assertTrue(rules(dataset).get(0).contains("validationSplit"));
    assertTrue(rules(dataset.getProperties().get("train")).get(0).contains(".size() == 1"));
    assertEquals(
        List.of("instruction", "auto", "chat", "completion", "text").stream().sorted().toList(),
        dataset.getProperties().get("format").getEnum().stream()
            .map(n -> n.asText())
            .sorted()
            .toList());
    assertTrue(
        spec.getProperties()
            .get("baseModel")
            .getProperties()
            .get("uri")
            .getPattern()
            .startsWith("^(hf://"));
    JSONSchemaProps hp = spec.getProperties().get("hyperparameters");
    assertTrue(hp.getProperties().get("batchSize").getXKubernetesIntOrString());
    assertEquals("auto", hp.getProperties().get("learningRate").getDefault().asText());
  }

  @Test
  void adapterDeploymentRules() throws IOException {
    CustomResourceDefinition crd = load("adapterdeployments");
    assertEquals(List.of("ad"), crd.getSpec().getNames().getShortNames());
    List<String> columns =
        version(crd).getAdditionalPrinterColumns().stream().map(c -> c.getName()).toList();
    assertTrue(columns.containsAll(List.of("READY", "LOADED")), columns.toString());
    JSONSchemaProps spec = spec(crd);
    JSONSchemaProps adapters = spec.getProperties().get("adapters");
    assertEquals("map", adapters.getXKubernetesListType());
    assertEquals(List.of("name"), adapters.getXKubernetesListMapKeys());
    List<String> loraRules = rules(spec.getProperties().get("lora"));
    assertTrue(loraRules.contains("!has(self.maxCpuLoras) || self.maxCpuLoras >= self.maxLoras"));
    assertTrue(
        loraRules.stream().anyMatch(r -> r.contains("[1, 8, 16, 32, 64, 128, 256, 320, 512]")));
  }
}
