package io.kubetune.trainer.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.TrainerConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {

  private static final List<String> LLAMA = llamaModules(2);

  private static List<String> llamaModules(int layers) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      for (String p : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
        names.add("model.layers." + i + ".self_attn." + p);
      }
      for (String p : List.of("gate_proj", "up_proj", "down_proj")) {
        names.add("model.layers." + i + ".mlp." + p);
      }
    }
    names.add("lm_head");
    return names;
  }

  @Test
  void allLinearIsEveryProjectionButTheOutputLayer() {
    LoraConfig c = LoraConfig.builder().optTargetModules(List.of("all-linear")).build();
    List<String> targets = c.resolveTargets(LLAMA);
    assertEquals(14, targets.size());
    assertTrue(!targets.contains("lm_head"));
    assertEquals(
        List.of("down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"),
        LoraConfig.targetSuffixes(targets));
  }

  @Test
  void namesMatchBySuffixLikePeft() {
    LoraConfig c = LoraConfig.builder().optTargetModules(List.of("q_proj", "down_proj")).build();
    assertEquals(
        List.of(
            "model.layers.0.self_attn.q_proj",
            "model.layers.0.mlp.down_proj",
            "model.layers.1.self_attn.q_proj",
            "model.layers.1.mlp.down_proj"),
        c.resolveTargets(LLAMA));
    assertEquals(List.of("q_proj", "v_proj"), LoraConfig.builder().build().targetModules());
  }

  @Test
  void unknownTargetListsTheValidNames() {
    LoraConfig c = LoraConfig.builder().optTargetModules(List.of("q_proj", "qkv_proj")).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> c.resolveTargets(LLAMA));
    assertTrue(e.getMessage().contains("method.targetModules: [qkv_proj]"), e.getMessage());
    assertTrue(e.getMessage().contains("all-linear") && e.getMessage().contains("gate_proj"));
  }

  @Test
  void scalesAndValidatesLikePeft() {
    assertEquals(2.0, LoraConfig.builder().setRank(8).optAlpha(16).build().scale());
    assertEquals(
        16 / Math.sqrt(8),
        LoraConfig.builder().setRank(8).optAlpha(16).optUseRslora(true).build().scale());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.builder().setRank(0).build());
    assertTrue(e.getMessage().startsWith("method.rank"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> LoraConfig.builder().optDropout(1.5).build());
    assertTrue(e.getMessage().startsWith("method.dropout"), e.getMessage());
  }

  @Test
  void contractDefaultsAlphaToRank() {
    LoraConfig c =
        LoraConfig.fromContract(
            new TrainerConfig.Method(
                "lora", 16, null, 0.05, List.of("all-linear"), true, null, null, null, null));
    assertEquals(16, c.rank());
    assertEquals(16.0, c.alpha());
    assertTrue(c.useRslora());
    assertEquals(List.of("all-linear"), c.targetModules());
  }
}
