package io.kubetune.trainer.train;

import ai.djl.ndarray.NDArray;
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
      double sumSq = 0;
      for (NDArray p : params) {
        if (p.hasGradient()) {
          double n = p.getGradient().norm().getFloat();
          sumSq += n * n;
        }
      }
      double total = Math.sqrt(sumSq);
      if (maxNorm > 0 && Double.isFinite(total)) {
        double coef = Math.min(1.0, maxNorm / (total + 1e-6));
        // torch multiplies even when the coefficient clamps to 1; skipping that is bit-identical.
        if (coef < 1.0) {
          for (NDArray p : params) {
            if (p.hasGradient()) {
              p.getGradient().muli((float) coef);
            }
          }
        }
      }
      return total;
    }
  }
}
