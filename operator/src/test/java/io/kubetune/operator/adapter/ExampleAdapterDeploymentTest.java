package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The shipped example must parse into the API types (no unknown fields) and be valid. */
class ExampleAdapterDeploymentTest {
  private static final Path EXAMPLE =
      Path.of("")
          .toAbsolutePath()
          .getParent()
          .resolve("examples")
          .resolve("adapterdeployment.yaml");

  @Test
  void exampleParsesStrictlyAndValidates() throws IOException {
    AdapterDeployment ad =
        new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .readValue(EXAMPLE.toFile(), AdapterDeployment.class);
    ad.getMetadata().setNamespace("default");
    assertEquals(List.of(), AdapterDeploymentValidator.validate(ad));
    assertEquals("hf://meta-llama/Llama-3.2-1B-Instruct", ad.getSpec().baseModel.uri);

    List<AdapterEntry> adapters = ad.getSpec().adapters;
    assertEquals(List.of("support", "billing"), adapters.stream().map(a -> a.name).toList());
    assertEquals("support-bot-lora", adapters.get(0).source.fineTuneJobRef.name);
    assertEquals("billing-bot-lora", adapters.get(1).source.fineTuneJobRef.name);
    assertNull(adapters.get(0).source.path);
    assertEquals(Boolean.TRUE, adapters.get(0).pin);
    assertEquals(Boolean.FALSE, adapters.get(1).pin);

    Map<String, String> env =
        ServingResources.deployment(ad, AdapterDeploymentSettings.defaults())
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getEnv()
            .stream()
            .filter(e -> e.getValue() != null)
            .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertEquals("16", env.get("OPTION_MAX_LORA_RANK"));
    assertEquals("8", env.get("OPTION_MAX_CPU_LORAS"));
    assertEquals("4096", env.get("OPTION_MAX_MODEL_LEN"));
    assertEquals("meta-llama/Llama-3.2-1B-Instruct", env.get("HF_MODEL_ID"));
  }
}
