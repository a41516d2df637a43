package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import java.util.List;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} (DJL's {@code
 * optClipGrad} clamps each value instead, which is not the same thing).
 */
public final class GradientClipping {

  private GradientClipping() {}

  /**
   * Computes the L2 norm over all gradients together and, when {@code maxNorm > 0}, multiplies
   * every gradient by {@code min(1, maxNorm / (norm + 1e-6))}.
   *
   * @param params arrays whose gradients are clipped in place
   * @param maxNorm the largest allowed norm; 0 or less only measures
   * @return the norm before clipping (NaN or infinite when a gradient is)
   */
  public static double clipGlobalNorm(List<NDArray> params, double maxNorm) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      // As torch: the norm of the stacked per-gradient norms, one read-back instead of one per
      // gradient.
      NDList norms = new NDList();
      for (NDArray p : params) {
        if (p.hasGradient()) {
          norms.add(p.getGradient().norm());
        }
      }
      if (norms.isEmpty()) {
        return 0;
      }
      double total = NDArrays.stack(norms).norm().getFloat();
      if (maxNorm > 0 && Double.isFinite(total)) {
        double coef = Math.min(1.0, maxNorm / (total + 1e-6));
        // torch multiplies even when the coefficient clamps to 1; skipping that is bit-identical.
        if (coef < 1.0) {
          NDArray factor = norms.head().getManager().create((float) coef);
          for (NDArray p : params) {
            if (p.hasGradient()) {
              p.getGradient().muli(factor);
            }
          }
        }
      }
      return total;
    }
  }
}
