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

/**
 * Our loss scaler against {@code torch.amp.GradScaler} on CPU: the same scaled gradients (with
 * overflows injected) give the same sequence of scales and skipped steps, and AdamW after unscaling
 * and clipping ends with the same weights (a skipped step leaves it untouched).
 */
class GradScalerInteropTest {

  private static final long[][] SHAPES = {{3, 4}, {5}};
  private static final int STEPS = 16;
  private static final int GROWTH_INTERVAL = 3;

  @Test
  void scalesSkipsAndWeightsMatchTorchGradScaler() throws Exception {
    Random r = new Random(5);
    List<float[]> init = new ArrayList<>();
    List<Map<String, Object>> paramsJson = new ArrayList<>();
    for (long[] shape : SHAPES) {
      float[] v = gaussian(r, new Shape(shape).size(), 1);
      init.add(v);
      paramsJson.add(Map.of("shape", shape, "values", v));
    }
    List<List<float[]>> grads = new ArrayList<>();
    for (int s = 0; s < STEPS; s++) {
      List<float[]> step = new ArrayList<>();
      for (long[] shape : SHAPES) {
        step.add(gaussian(r, new Shape(shape).size(), 0.1 * (1 + s % 4)));
      }
      grads.add(step);
    }
    // Overflows early (two in a row), after a growth, and a NaN late.
    Map<String, String> poison = new LinkedHashMap<>();
    poison.put("1", "inf");
    poison.put("2", "-inf");
    poison.put("7", "inf");
    poison.put("12", "nan");
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("params", paramsJson);
    input.put("grads", grads);
    input.put("poison", poison);
    input.put("lr", 0.05);
    input.put("weight_decay", 0.1);
    input.put("betas", List.of(0.9, 0.999));
    input.put("eps", 1e-8);
    input.put("max_grad_norm", 0.5);
    input.put("init_scale", 1024.0);
    input.put("growth_interval", GROWTH_INTERVAL);
    JsonNode ref = ReferencePython.run("train_grad_scaler.py", input);

    try (NDManager m = NDManager.newBaseManager()) {
      List<NDArray> params = new ArrayList<>();
      for (int i = 0; i < SHAPES.length; i++) {
        NDArray p = m.create(init.get(i), new Shape(SHAPES[i]));
        p.setRequiresGradient(true);
        params.add(p);
      }
      AdamW adamw = AdamW.builder().setParameters(params).setManager(m).optWeightDecay(0.1).build();
      adamw.zeroGrad();
      GradScaler scaler =
          GradScaler.builder().optInitScale(1024).optGrowthInterval(GROWTH_INTERVAL).build();
      double maxParamErr = 0;
      int skipped = 0;
      for (int s = 0; s < STEPS; s++) {
        List<float[]> scaled = new ArrayList<>();
        for (float[] g : grads.get(s)) {
          float[] v = g.clone();
          for (int k = 0; k < v.length; k++) {
            v[k] *= scaler.scale();
          }
          scaled.add(v);
        }
        String kind = poison.get(Integer.toString(s));
        if (kind != null) {
          scaled.get(0)[0] =
              switch (kind) {
                case "inf" -> Float.POSITIVE_INFINITY;
                case "-inf" -> Float.NEGATIVE_INFINITY;
                default -> Float.NaN;
              };
        }
        setGradients(m, params, scaled);
        boolean skip = scaler.unscale(params);
        if (!skip) {
          GradientClipping.clipGlobalNorm(params, 0.5);
          adamw.step(0.05);
        } else {
          skipped++;
        }
        adamw.zeroGrad();
        scaler.update();
        assertEquals(ref.get("skipped").get(s).asBoolean(), skip, "skipped, step " + s);
        assertEquals(ref.get("scales").get(s).asDouble(), scaler.scale(), 0.0, "scale, step " + s);
        for (int i = 0; i < params.size(); i++) {
          float[] ours = params.get(i).toFloatArray();
          JsonNode theirs = ref.get("params").get(s).get(i);
          for (int k = 0; k < ours.length; k++) {
            maxParamErr = Math.max(maxParamErr, Math.abs(ours[k] - theirs.get(k).asDouble()));
          }
        }
      }
      assertEquals(4, skipped);
      assertEquals(STEPS - skipped, adamw.steps(), "skipped steps leave AdamW's step count");
      assertTrue(maxParamErr < 2e-6, "max |ours - torch| over all steps = " + maxParamErr);
      System.out.printf(
          "GradScaler vs torch.amp.GradScaler: %d steps, %d skipped, final scale %.0f, max param"
              + " error %.3g%n",
          STEPS, skipped, scaler.scale(), maxParamErr);
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
