package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.operator.adapter.AdapterDeploymentValidator.Problem;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdapterDeploymentValidatorTest {

  private static List<String> fields(AdapterDeployment ad) {
    return AdapterDeploymentValidator.validate(ad).stream().map(Problem::field).toList();
  }

  @Test
  void aValidSpecHasNoProblems() {
    assertEquals(
        List.of(),
        fields(AdapterDeployments.of("ns", "ad").path("a", "a").job("b", "job").build()));
  }

  @Test
  void servingConfigProblemsBlockServingAndSayWhatToUse() {
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").maxLoraRank(48).build();
    ad.getSpec().lora.maxLoras = 8;
    ad.getSpec().lora.maxCpuLoras = 4;
    ad.getSpec().serving.properties = Map.of("batch_size", "4");
    List<Problem> problems = AdapterDeploymentValidator.validate(ad);
    assertEquals(
        List.of(
            "spec.lora.maxLoraRank", "spec.lora.maxCpuLoras", "spec.serving.properties.batch_size"),
        problems.stream().map(Problem::field).toList());
    assertTrue(problems.stream().allMatch(Problem::blocksServing));
    assertTrue(problems.get(0).message().contains("[1, 8, 16, 32, 64, 128, 256, 320, 512]"));
    assertTrue(problems.get(2).message().contains("SERVING_*"));
  }

  @Test
  void badBaseModelUriIsReported() {
    assertEquals(
        List.of("spec.baseModel.uri"),
        fields(AdapterDeployments.of("ns", "ad").baseModel("s3://bucket/model").build()));
  }

  @Test
  void adapterEntryProblemsAreConfinedToTheEntry() {
    AdapterDeployment ad =
        AdapterDeployments.of("ns", "ad").path("a", "a").path("a", "b").path("Bad", "c").build();
    ad.getSpec().adapters.get(0).source.fineTuneJobRef =
        new io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.LocalRef();
    List<Problem> problems = AdapterDeploymentValidator.validate(ad);
    assertEquals(
        List.of("spec.adapters[0].source", "spec.adapters[1].name", "spec.adapters[2].name"),
        problems.stream().map(Problem::field).toList());
    assertTrue(problems.stream().noneMatch(Problem::blocksServing));
    assertEquals(
        java.util.Set.of("spec.adapters[0]", "spec.adapters[1]", "spec.adapters[2]"),
        AdapterDeploymentValidator.invalidAdapterIndexes(problems));
  }
}
