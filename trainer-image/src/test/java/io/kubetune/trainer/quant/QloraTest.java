package io.kubetune.trainer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.lora.LoraLinear;
import io.kubetune.trainer.model.DenseLinear;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.LlamaConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.FixedCompletion;
import io.kubetune.trainer.testing.TinyModels;
import io.kubetune.trainer.train.CausalLm;
import io.kubetune.trainer.train.FineTuner;
import io.kubetune.trainer.train.LrSchedule;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingOptions;
import io.kubetune.trainer.train.TrainingResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QLoRA on tiny Llama models: what gets quantized, what is released, and that it trains. */
class QloraTest {

  @TempDir Path dir;

  @Test
  void quantizesEveryProjectionButLmHeadAndReleasesTheFp32Weights() throws Exception {
    Path modelDir = TinyModels.llama().hidden(128).intermediate(256).heads(4).kvHeads(2).write(dir);
    for (boolean dq : new boolean[] {true, false}) {
      try (NDManager m = NDManager.newBaseManager();
          LlamaModel model = LlamaModel.load(modelDir, m)) {
        LlamaConfig c = model.config();
        Map<String, NDArray> fp32 = new LinkedHashMap<>();
        long expectedQuantized = 0;
        for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
          if (!e.getKey().equals("lm_head")) {
            fp32.put(e.getKey(), model.weight(e.getKey() + ".weight"));
            expectedQuantized += (long) e.getValue().inFeatures() * e.getValue().outFeatures();
          }
        }
        long denseBefore = 0;
        for (String name : model.weightNames()) {
          denseBefore += model.weight(name).size();
        }

        Qlora qlora =
            Qlora.apply(
                model,
                LoraConfig.builder().setRank(4).build(),
                Nf4Options.defaults().withDoubleQuant(dq),
                m,
                1);

        assertEquals(fp32.keySet(), qlora.quantized().keySet());
        assertInstanceOf(DenseLinear.class, model.linear("lm_head"));
        for (Map.Entry<String, NDArray> e : fp32.entrySet()) {
          String name = e.getKey();
          assertTrue(e.getValue().isReleased(), name + " fp32 weight must be freed");
          assertFalse(model.weightNames().contains(name + ".weight"));
          Linear now = model.linear(name);
          if (name.endsWith("q_proj") || name.endsWith("v_proj")) {
            LoraLinear lora = assertInstanceOf(LoraLinear.class, now, name);
            assertSame(qlora.quantized().get(name), lora.base());
          } else {
            assertSame(qlora.quantized().get(name), now);
          }
        }
        assertEquals(4 * c.numHiddenLayers(), qlora.adapter().parameters().size());

        BaseWeightMemory mem = qlora.baseWeightMemory();
        assertEquals(expectedQuantized, mem.quantizedParameters());
        assertEquals(denseBefore - expectedQuantized, mem.denseParameters());
        assertEquals(4 * mem.denseParameters(), mem.denseBytes());
        assertTrue(mem.bytesPerQuantizedParameter() <= 0.64, "bytes/param " + mem);
        assertTrue(mem.quantizedRatio() <= 0.16, "ratio " + mem);
        assertTrue(mem.totalRatio() < 1, "total " + mem);
        Map<String, Object> report = mem.toReport();
        assertEquals(mem.totalBytes(), report.get("totalBytes"));
        assertEquals(mem.quantizedRatio(), report.get("quantizedRatio"));
        System.out.printf(
            "tiny QLoRA (double quant %s): %.4f bytes/param, quantized %.3fx, whole base %.3fx of"
                + " fp32%n",
            dq, mem.bytesPerQuantizedParameter(), mem.quantizedRatio(), mem.totalRatio());
      }
    }
  }

  @Test
  void quantizedModelComputesTheDenseModelOnDequantizedWeights() throws Exception {
    Path modelDir = TinyModels.llama().seed(5).write(dir);
    int[] ids = {1, 10, 11, 12, 13, 14, 15, 16};
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel quantized = LlamaModel.load(modelDir, m);
        LlamaModel reference = LlamaModel.load(modelDir, m);
        LlamaModel original = LlamaModel.load(modelDir, m)) {
      Nf4Options opts = Nf4Options.defaults();
      for (String name : reference.linears().keySet()) {
        if (!name.equals("lm_head")) {
          NDArray w = reference.weight(name + ".weight");
          float[] deq =
              Nf4Tensor.quantize(w.toFloatArray(), w.getShape().getShape(), opts).dequantize();
          reference.replaceWeight(name + ".weight", m.create(deq, w.getShape()));
        }
      }
      Qlora.apply(quantized, LoraConfig.builder().setRank(4).build(), opts, m, 0);
      try (NDManager step = m.newSubManager()) {
        NDArray input = step.create(ids, new Shape(1, ids.length));
        float[] q = quantized.forward(input, null, null).toFloatArray();
        float[] r = reference.forward(input, null, null).toFloatArray();
        float[] o = original.forward(input, null, null).toFloatArray();
        // LoRA B starts at zero, so QLoRA is exactly the dequantized base.
        assertArrayEquals(r, q, 1e-4f);
        double diff = 0;
        for (int i = 0; i < o.length; i++) {
          diff = Math.max(diff, Math.abs(o[i] - q[i]));
        }
        assertTrue(diff > 1e-4, "quantization must change the base a little, max diff " + diff);
      }
    }
  }

  @Test
  void qloraTrainingLowersLossAndLeavesTheCodesBitIdentical() throws Exception {
    Path modelDir = TinyModels.llama().layers(2).kvHeads(2).seed(3).write(dir);
    List<TrainingExample> train = FixedCompletion.examples(32, 1);
    List<TrainingExample> valid = FixedCompletion.examples(8, 2);
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      Qlora qlora =
          Qlora.apply(
              model,
              LoraConfig.builder()
                  .setRank(8)
                  .optAlpha(16)
                  .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
                  .build(),
              Nf4Options.defaults(),
              m,
              42);
      Map<String, byte[]> before = new LinkedHashMap<>();
      qlora.quantized().forEach((name, l) -> before.put(name, l.packedBytes()));
      TrainingResult result =
          FineTuner.run(
              FineTuner.TrainingJob.builder()
                  .setModel(CausalLm.of(model))
                  .setParameters(qlora.adapter().parameters())
                  .optTrainingMode(qlora.adapter()::setTraining)
                  .setTrainData(train)
                  .optValidationData(valid)
                  .setOptions(
                      TrainingOptions.builder()
                          .optEpochs(8)
                          .optBatchSize(8)
                          .optLearningRate(1e-2)
                          .optWarmupRatio(0.1)
                          .optLrScheduler(LrSchedule.Type.COSINE)
                          .optEvalEverySteps(16)
                          .optPadTokenId(TinyModels.PAD)
                          .build())
                  .setManager(m)
                  .build());
      qlora
          .quantized()
          .forEach(
              (name, l) -> {
                assertArrayEquals(before.get(name), l.packedBytes(), name + " codes changed");
                assertTrue(l.trainableParameters().isEmpty());
              });
      double baseline = result.baseline().validLoss();
      double trained = result.finalEval().validLoss();
      assertTrue(trained < 0.25 * baseline, "validation loss " + baseline + " -> " + trained);
      System.out.printf(
          "tiny QLoRA fixed completion: valid loss %.3f -> %.4f, accuracy %.2f -> %.2f%n",
          baseline,
          trained,
          result.baseline().validTokenAccuracy(),
          result.finalEval().validTokenAccuracy());
    }
  }

  @Test
  void misconfigurationFailsBeforeTheModelChanges() throws Exception {
    Path modelDir = TinyModels.llama().write(dir);
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      LoraConfig typo = LoraConfig.builder().optTargetModules(List.of("q_prj")).build();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Qlora.apply(model, typo, Nf4Options.defaults(), m, 0));
      assertTrue(e.getMessage().contains("q_prj") && e.getMessage().contains("q_proj"));
      assertInstanceOf(DenseLinear.class, model.linear("model.layers.0.self_attn.q_proj"));
      assertTrue(model.weightNames().contains("model.layers.0.self_attn.q_proj.weight"));

      IllegalArgumentException inUse =
          assertThrows(
              IllegalArgumentException.class,
              () -> model.releaseWeight("model.layers.0.mlp.up_proj.weight"));
      assertTrue(inUse.getMessage().contains("still read"));

      Qlora.apply(model, LoraConfig.builder().build(), Nf4Options.defaults(), m, 0);
      IllegalStateException twice =
          assertThrows(
              IllegalStateException.class,
              () -> Qlora.apply(model, LoraConfig.builder().build(), Nf4Options.defaults(), m, 0));
      assertTrue(twice.getMessage().contains("freshly loaded"));
    }
  }

  @Test
  void loraTargetsScopeQuantizesOnlyTheAdaptedProjections() throws Exception {
    Path modelDir = TinyModels.llama().write(dir);
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(modelDir, m)) {
      Qlora qlora =
          Qlora.apply(
              model,
              LoraConfig.builder().optTargetModules(List.of("o_proj")).build(),
              Nf4Options.defaults().withScope(Nf4Options.Scope.LORA_TARGETS),
              m,
              0);
      List<String> expected = new ArrayList<>();
      for (String name : model.linears().keySet()) {
        if (name.endsWith("o_proj")) {
          expected.add(name);
        }
      }
      assertEquals(expected, List.copyOf(qlora.quantized().keySet()));
      assertInstanceOf(DenseLinear.class, model.linear("model.layers.0.mlp.up_proj"));
    }
  }
}
