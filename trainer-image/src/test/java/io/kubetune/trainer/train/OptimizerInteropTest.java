package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
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
    List<float[]> init = new ArrayList<>();
    List<Map<String, Object>> paramsJson = new ArrayList<>();
    for (long[] shape : SHAPES) {
      float[] v = gaussian(r, new Shape(shape).size(), 1);
      init.add(v);
      paramsJson.add(Map.of("shape", shape, "values", v));
    }
    // Gradients of growing size so that clipping is active on some steps and not on others.
    List<List<float[]>> grads = new ArrayList<>();
    for (int s = 0; s < STEPS; s++) {
      List<float[]> step = new ArrayList<>();
      for (long[] shape : SHAPES) {
        step.add(gaussian(r, new Shape(shape).size(), 0.05 * (1 + s)));
      }
      grads.add(step);
    }
    double lr = 0.05;
    double wd = 0.1;
    double maxNorm = 0.6;
    long warmup = LrSchedule.warmupSteps(0.2, STEPS);
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("params", paramsJson);
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
      List<NDArray> params = new ArrayList<>();
      for (int i = 0; i < SHAPES.length; i++) {
        NDArray p = m.create(init.get(i), new Shape(SHAPES[i]));
        p.setRequiresGradient(true);
        params.add(p);
      }
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
        setGradients(m, params, grads.get(s));
        double norm = GradientClipping.clipGlobalNorm(params, maxNorm);
        assertEquals(ref.get("norms").get(s).asDouble(), norm, 1e-5 * norm, "grad norm, step " + s);
        if (norm > maxNorm) {
          clipped++;
        }
        double stepLr = lr * schedule.multiplier(s);
        assertEquals(ref.get("lrs").get(s).asDouble(), stepLr, 1e-12, "lr, step " + s);
        adamw.step(stepLr);
        adamw.zeroGrad();
        for (int i = 0; i < params.size(); i++) {
          float[] ours = params.get(i).toFloatArray();
          JsonNode theirs = ref.get("params").get(s).get(i);
          for (int k = 0; k < ours.length; k++) {
            maxParamErr = Math.max(maxParamErr, Math.abs(ours[k] - theirs.get(k).asDouble()));
          }
        }
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
      setGradients(m, List.of(p), List.of(new float[] {1, 1, 1}));
      setGradients(m, List.of(p), List.of(new float[] {2, 2, 2}));
      assertEquals(3f, p.getGradient().getFloat(0), "DJL accumulates gradients across backward");
      adamw.zeroGrad();
      assertEquals(0f, p.getGradient().abs().sum().getFloat());
    }
  }

  /** Makes autograd leave exactly {@code g} in each gradient: d/dp sum(p * g) = g. */
  private static void setGradients(NDManager m, List<NDArray> params, List<float[]> grads) {
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray total = null;
      for (int i = 0; i < params.size(); i++) {
        NDArray g = m.create(grads.get(i), params.get(i).getShape());
        NDArray term = params.get(i).mul(g).sum();
        total = total == null ? term : total.add(term);
      }
      gc.backward(total);
    }
  }

  private static float[] gaussian(Random r, long n, double std) {
    float[] v = new float[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * std);
    }
    return v;
  }
}
