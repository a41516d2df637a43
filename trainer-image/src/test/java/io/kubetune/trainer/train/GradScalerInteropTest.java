package io.kubetune.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
    List<float[]> init = ParameterFixtures.initialValues(r, SHAPES);
    List<List<float[]>> grads =
        ParameterFixtures.gradients(r, SHAPES, STEPS, s -> 0.1 * (1 + s % 4));
    // Overflows early (two in a row), after a growth, and a NaN late.
    Map<String, String> poison = new LinkedHashMap<>();
    poison.put("1", "inf");
    poison.put("2", "-inf");
    poison.put("7", "inf");
    poison.put("12", "nan");
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("params", ParameterFixtures.toJson(SHAPES, init));
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
      List<NDArray> params = ParameterFixtures.trainable(m, SHAPES, init);
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
        ParameterFixtures.setGradients(m, params, scaled);
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
        maxParamErr =
            Math.max(maxParamErr, ParameterFixtures.maxAbsError(params, ref.get("params").get(s)));
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
}
