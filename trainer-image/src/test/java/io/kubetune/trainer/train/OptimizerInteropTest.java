package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** AdamW, global-norm clipping and the schedules against torch and transformers. */
class OptimizerInteropTest {

  private static final long[][] SHAPES = {{3, 4}, {5}, {2, 2}};
  private static final int STEPS = 12;

  @Test
  void adamwWithClippingAndCosineWarmupMatchesTorch() throws Exception {
    Random r = new Random(11);
    List<float[]> init = ParameterFixtures.initialValues(r, SHAPES);
    // Gradients of growing size so that clipping is active on some steps and not on others.
    List<List<float[]>> grads = ParameterFixtures.gradients(r, SHAPES, STEPS, s -> 0.05 * (1 + s));
    double lr = 0.05;
    double wd = 0.1;
    double maxNorm = 0.6;
    long warmup = LrSchedule.warmupSteps(0.2, STEPS);
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("params", ParameterFixtures.toJson(SHAPES, init));
    input.put("grads", grads);
    input.put("lr", lr);
    input.put("weight_decay", wd);
    input.put("betas", List.of(0.9, 0.95));
    input.put("eps", 1e-6);
    input.put("max_grad_norm", maxNorm);
    input.put("schedule", "cosine");
    input.put("warmup_steps", warmup);
    input.put("total_steps", STEPS);
    JsonNode ref = ReferencePython.run("train_optim.py", input);

    LrSchedule schedule = new LrSchedule(LrSchedule.Type.COSINE, warmup, STEPS);
    try (NDManager m = NDManager.newBaseManager()) {
      List<NDArray> params = ParameterFixtures.trainable(m, SHAPES, init);
      AdamW adamw =
          AdamW.builder()
              .setParameters(params)
              .setManager(m)
              .optBetas(0.9, 0.95)
              .optEps(1e-6)
              .optWeightDecay(wd)
              .build();
      double maxParamErr = 0;
      int clipped = 0;
      for (int s = 0; s < STEPS; s++) {
        ParameterFixtures.setGradients(m, params, grads.get(s));
        double norm = GradientClipping.clipGlobalNorm(params, maxNorm);
        assertEquals(ref.get("norms").get(s).asDouble(), norm, 1e-5 * norm, "grad norm, step " + s);
        if (norm > maxNorm) {
          clipped++;
        }
        double stepLr = lr * schedule.multiplier(s);
        assertEquals(ref.get("lrs").get(s).asDouble(), stepLr, 1e-12, "lr, step " + s);
        adamw.step(stepLr);
        adamw.zeroGrad();
        maxParamErr =
            Math.max(maxParamErr, ParameterFixtures.maxAbsError(params, ref.get("params").get(s)));
      }
      assertTrue(clipped > 0 && clipped < STEPS, "the data must exercise clipping both ways");
      assertTrue(maxParamErr < 2e-6, "max |ours - torch| over all steps = " + maxParamErr);
      System.out.printf("AdamW vs torch: max param error %.3g over %d steps%n", maxParamErr, STEPS);
    }

    for (LrSchedule.Type type : LrSchedule.Type.values()) {
      LrSchedule ours = new LrSchedule(type, warmup, STEPS);
      JsonNode theirs = ref.get("multipliers").get(type.name().toLowerCase(java.util.Locale.ROOT));
      for (int s = 0; s < theirs.size(); s++) {
        assertEquals(theirs.get(s).asDouble(), ours.multiplier(s), 1e-12, type + " at step " + s);
      }
    }
  }

  @Test
  void zeroGradResetsAccumulatedGradients() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = m.create(new float[] {1, 2, 3});
      p.setRequiresGradient(true);
      AdamW adamw = AdamW.builder().setParameters(List.of(p)).setManager(m).build();
      ParameterFixtures.setGradients(m, List.of(p), List.of(new float[] {1, 1, 1}));
      ParameterFixtures.setGradients(m, List.of(p), List.of(new float[] {2, 2, 2}));
      assertEquals(3f, p.getGradient().getFloat(0), "DJL accumulates gradients across backward");
      adamw.zeroGrad();
      assertEquals(0f, p.getGradient().abs().sum().getFloat());
    }
  }
}
