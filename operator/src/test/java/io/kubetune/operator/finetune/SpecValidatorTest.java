package io.kubetune.operator.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.kubetune.operator.api.v1alpha1.DataSource;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.MethodSpec;
import io.kubetune.operator.api.v1alpha1.PartialSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {

  private static List<String> fields(FineTuneJob job) {
    return SpecValidator.validate(job).stream().map(SpecProblem::field).toList();
  }

  @Test
  void aDefaultLoraJobIsValid() {
    assertEquals(List.of(), SpecValidator.validate(FineTuneJobs.lora("ns", "ok").build()));
    assertEquals(List.of(), SpecValidator.validate(FineTuneJobs.lora("ns", "ok").qlora().build()));
    assertEquals(
        List.of(),
        SpecValidator.validate(
            FineTuneJobs.lora("ns", "ok")
                .baseModel("hf://meta-llama/Llama-3.2-1B-Instruct")
                .hubToken("hf-token")
                .train(DataSource.ofInline("{\"text\":\"hi\"}"))
                .validation(DataSource.ofConfigMap("data", "valid.jsonl"))
                .learningRate("2e-4")
                .build()));
  }

  @Test
  void uriSchemes() {
    assertEquals(
        List.of("spec.baseModel.uri"),
        fields(FineTuneJobs.lora("ns", "j").baseModel("https://example.com/model").build()));
    assertEquals(
        List.of("spec.dataset.train.uri"),
        fields(FineTuneJobs.lora("ns", "j").train(DataSource.ofUri("s3://b/train.jsonl")).build()));
    assertEquals(
        List.of("spec.baseModel.uri"),
        fields(FineTuneJobs.lora("ns", "j").baseModel("pvc://Bad_Claim/x").build()));
  }

  @Test
  void loraRanges() {
    assertEquals(
        List.of("spec.method.lora.rank"), fields(FineTuneJobs.lora("ns", "j").rank(513).build()));
    assertEquals(
        List.of("spec.method.lora.alpha"), fields(FineTuneJobs.lora("ns", "j").alpha(0).build()));
    assertEquals(
        List.of("spec.method.lora.targetModules"),
        fields(FineTuneJobs.lora("ns", "j").targetModules("query").build()));
  }

  @Test
  void contradictions() {
    assertEquals(
        List.of("spec.method.quantization"),
        fields(FineTuneJobs.lora("ns", "j").methodType(MethodSpec.Type.QLORA).build()));
    assertEquals(
        List.of("spec.method.partial.trainableLayers", "spec.method.lora"),
        fields(FineTuneJobs.lora("ns", "j").methodType(MethodSpec.Type.PARTIAL).build()));
    assertEquals(
        List.of("spec.method.partial"),
        fields(
            FineTuneJobs.lora("ns", "j")
                .with(
                    s -> {
                      s.method.partial = new PartialSpec();
                      s.method.partial.trainableLayers = 2;
                    })
                .build()));
    DataSource both = DataSource.ofUri("pvc://d/train.jsonl");
    both.inline = "{}";
    assertEquals(
        List.of("spec.dataset.train"), fields(FineTuneJobs.lora("ns", "j").train(both).build()));
  }

  @Test
  void hyperparameters() {
    assertEquals(
        List.of("spec.hyperparameters.learningRate"),
        fields(FineTuneJobs.lora("ns", "j").learningRate("2").build()));
    assertEquals(
        List.of("spec.hyperparameters.batchSize"),
        fields(
            FineTuneJobs.lora("ns", "j")
                .with(s -> s.hyperparameters.batchSize = new IntOrString("big"))
                .build()));
    assertEquals(
        List.of("spec.hyperparameters.maxSeqLength"),
        fields(
            FineTuneJobs.lora("ns", "j")
                .with(s -> s.hyperparameters.maxSeqLength = new IntOrString(0))
                .build()));
  }

  @Test
  void longNamesAreRejectedBecauseChildNamesWouldNotFit() {
    String name = "a".repeat(SpecValidator.MAX_NAME_LENGTH + 1);
    List<SpecProblem> problems = SpecValidator.validate(FineTuneJobs.lora("ns", name).build());
    assertEquals("metadata.name", problems.get(0).field());
    assertTrue(problems.get(0).message().contains("at most " + SpecValidator.MAX_NAME_LENGTH));
  }
}
