package io.kubetune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntToDoubleFunction;

/**
 * Parameters and gradients that the optimizer interop tests give both to our code and to the Python
 * reference, and the comparison of the weights that come back.
 */
final class ParameterFixtures {

  private ParameterFixtures() {}

  /** Gaussian values (std 1) for a parameter of each shape, drawn in order from {@code r}. */
  static List<float[]> initialValues(Random r, long[][] shapes) {
    List<float[]> init = new ArrayList<>();
    for (long[] shape : shapes) {
      init.add(gaussian(r, new Shape(shape).size(), 1));
    }
    return init;
  }

  /** The parameters as the reference scripts read them: {@code {"shape", "values"}} each. */
  static List<Map<String, Object>> toJson(long[][] shapes, List<float[]> values) {
    List<Map<String, Object>> json = new ArrayList<>();
    for (int i = 0; i < shapes.length; i++) {
      json.add(Map.of("shape", shapes[i], "values", values.get(i)));
    }
    return json;
  }

  /** Gaussian gradients for each shape and step, with a standard deviation per step. */
  static List<List<float[]>> gradients(
      Random r, long[][] shapes, int steps, IntToDoubleFunction stdOfStep) {
    List<List<float[]>> grads = new ArrayList<>();
    for (int s = 0; s < steps; s++) {
      List<float[]> step = new ArrayList<>();
      for (long[] shape : shapes) {
        step.add(gaussian(r, new Shape(shape).size(), stdOfStep.applyAsDouble(s)));
      }
      grads.add(step);
    }
    return grads;
  }

  /** Parameters with the given values that record gradients. */
  static List<NDArray> trainable(NDManager m, long[][] shapes, List<float[]> values) {
    List<NDArray> params = new ArrayList<>();
    for (int i = 0; i < shapes.length; i++) {
      NDArray p = m.create(values.get(i), new Shape(shapes[i]));
      p.setRequiresGradient(true);
      params.add(p);
    }
    return params;
  }

  /** Makes autograd leave exactly {@code g} in each gradient: d/dp sum(p * g) = g. */
  static void setGradients(NDManager m, List<NDArray> params, List<float[]> grads) {
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

  /** The largest |ours - theirs| over all parameters; {@code theirs} holds one array each. */
  static double maxAbsError(List<NDArray> params, JsonNode theirs) {
    double max = 0;
    for (int i = 0; i < params.size(); i++) {
      float[] ours = params.get(i).toFloatArray();
      JsonNode t = theirs.get(i);
      for (int k = 0; k < ours.length; k++) {
        max = Math.max(max, Math.abs(ours[k] - t.get(k).asDouble()));
      }
    }
    return max;
  }

  private static float[] gaussian(Random r, long n, double std) {
    float[] v = new float[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * std);
    }
    return v;
  }
}
