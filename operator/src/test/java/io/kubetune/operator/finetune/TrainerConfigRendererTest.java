package io.kubetune.operator.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.kubetune.contract.Contract;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.operator.api.v1alpha1.DataSource;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.Hyperparameters;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerConfigRendererTest {
  private final FineTuneJobSettings settings = FineTuneJobSettings.defaults();

  @Test
  void pvcPathsAreMountedAndRewritten() {
    FineTuneJob job =
        FineTuneJobs.lora("ns", "j")
            .baseModel("pvc://models/llama/1b")
            .train(DataSource.ofUri("pvc://models/data/train.jsonl"))
            .validation(DataSource.ofUri("pvc://other/valid.jsonl"))
            .build();
    TrainerConfigRenderer.Rendered r = TrainerConfigRenderer.render(job, settings);
    assertEquals("/mnt/pvc/models/llama/1b", r.config().baseModel().uri());
    assertEquals("/mnt/pvc/models/data/train.jsonl", r.config().dataset().train());
    assertEquals("/mnt/pvc/other/valid.jsonl", r.config().dataset().validation());
    assertNull(r.config().dataset().validationSplit(), "explicit validation set: no split");
    // One read-only volume per claim, even when two paths share it.
    assertEquals(2, r.volumes().size());
    assertTrue(r.mounts().stream().allMatch(m -> Boolean.TRUE.equals(m.getReadOnly())));
    assertEquals(
        List.of("/mnt/pvc/models", "/mnt/pvc/other"),
        r.mounts().stream().map(m -> m.getMountPath()).toList());
  }

  @Test
  void inlineAndConfigMapDatasetsBecomeFiles() {
    FineTuneJob job =
        FineTuneJobs.lora("ns", "j")
            .train(DataSource.ofInline("{\"text\":\"a\"}\n"))
            .validation(DataSource.ofConfigMap("eval-data", "v.jsonl"))
            .build();
    TrainerConfigRenderer.Rendered r = TrainerConfigRenderer.render(job, settings);
    assertEquals("/etc/kubetune/train.jsonl", r.config().dataset().train());
    assertEquals("{\"text\":\"a\"}\n", r.configData().get("train.jsonl"));
    assertEquals("/data/validation/validation.jsonl", r.config().dataset().validation());
    assertEquals("eval-data", r.volumes().get(0).getConfigMap().getName());
    assertEquals("v.jsonl", r.volumes().get(0).getConfigMap().getItems().get(0).getKey());
  }

  @Test
  void hubModelsKeepTheirUriAndGetTheTokenFromASecret() {
    FineTuneJob job =
        FineTuneJobs.lora("ns", "j")
            .baseModel("hf://meta-llama/Llama-3.2-1B")
            .hubToken("hf")
            .build();
    TrainerConfigRenderer.Rendered r = TrainerConfigRenderer.render(job, settings);
    assertEquals("hf://meta-llama/Llama-3.2-1B", r.config().baseModel().uri());
    assertEquals("HF_TOKEN", r.config().baseModel().tokenEnv());
    assertEquals("hf", r.env().get(0).getValueFrom().getSecretKeyRef().getName());
    assertNull(r.env().get(0).getValue(), "the token never lands in the pod spec");
  }

  @Test
  void autoHyperparametersAreLeftToTheTrainerAndNumbersPassThrough() {
    FineTuneJob job =
        FineTuneJobs.lora("ns", "j")
            .learningRate("2e-4")
            .with(s -> s.hyperparameters.batchSize = new IntOrString(16))
            .build();
    TrainerConfig c = TrainerConfigRenderer.render(job, settings).config();
    assertEquals(2e-4, c.hyperparameters().learningRate());
    assertEquals(16, c.hyperparameters().batchSize());
    assertNull(c.hyperparameters().epochs());
    assertNull(c.hyperparameters().maxSeqLength());
    assertEquals(0.1, c.dataset().validationSplit(), "default split when no validation set");
    assertNull(c.hyperparameters().precision(), "precision auto is resolved by the trainer");
  }

  @Test
  void chosenPrecisionReachesTheTrainer() {
    FineTuneJob job =
        FineTuneJobs.lora("ns", "j")
            .with(s -> s.hyperparameters.precision = Hyperparameters.Precision.FP16)
            .build();
    assertEquals(
        "fp16", TrainerConfigRenderer.render(job, settings).config().hyperparameters().precision());
  }

  @Test
  void renderedConfigIsAStrictlyValidContractDocument() {
    FineTuneJob job = FineTuneJobs.lora("ns", "j").qlora().output("team-store", "alice").build();
    TrainerConfigRenderer.Rendered r = TrainerConfigRenderer.render(job, settings);
    TrainerConfig parsed =
        Contract.readStrict(r.configData().get(Contract.CONFIG_KEY), TrainerConfig.class);
    assertEquals("qlora", parsed.method().type());
    assertEquals("nf4", parsed.method().quantization());
    assertEquals("team-store", r.artifactClaim());
    assertEquals(
        "pvc://team-store/alice/adapters/j",
        TrainerConfigRenderer.artifactUri(
            "/artifacts/adapters/j", r.artifactClaim(), r.artifactSubPath()));
  }
}
