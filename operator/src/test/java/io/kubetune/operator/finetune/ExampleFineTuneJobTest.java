package io.kubetune.operator.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.MethodSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shipped example must parse into the API types (no unknown fields) and be valid. */
class ExampleFineTuneJobTest {
  private static final Path EXAMPLE =
      Path.of("").toAbsolutePath().getParent().resolve("examples").resolve("finetunejob.yaml");

  @Test
  void exampleParsesStrictlyAndValidates() throws IOException {
    FineTuneJob job =
        new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .readValue(EXAMPLE.toFile(), FineTuneJob.class);
    job.getMetadata().setNamespace("default");
    assertEquals(MethodSpec.Type.LORA, job.getSpec().method.type);
    assertEquals(16, job.getSpec().method.lora.rank);
    assertEquals(List.of(), SpecValidator.validate(job));

    TrainerConfig config =
        TrainerConfigRenderer.render(job, FineTuneJobSettings.defaults()).config();
    assertEquals("hf://meta-llama/Llama-3.2-1B-Instruct", config.baseModel().uri());
    assertEquals("/mnt/pvc/datasets/support/train.jsonl", config.dataset().train());
    assertEquals("chat", config.dataset().format());
    assertEquals(2e-4, config.hyperparameters().learningRate());
    assertEquals(4, config.hyperparameters().gradientAccumulationSteps());
    assertEquals("support-bot-v1", config.output().adapterName());
  }
}
