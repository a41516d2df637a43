package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/** Rotary position embeddings in the Hugging Face {@code rotate_half} convention. */
public final class Rope {

  private Rope() {}

  /**
   * Inverse frequencies {@code [headDim / 2]} as transformers computes them in f32, including
   * linear and llama3 scaling ({@code _compute_llama3_parameters}).
   */
  public static float[] inverseFrequencies(LlamaConfig config) {
    int dim = config.headDim();
    float[] inv = new float[dim / 2];
    for (int i = 0; i < inv.length; i++) {
      // torch: arange(0, dim, 2).float() / dim, then base ** that, then 1.0 / that, all in f32.
      float exponent = (float) (2 * i) / (float) dim;
      float pow = (float) Math.pow(config.ropeTheta(), exponent);
      inv[i] = 1.0f / pow;
    }
    LlamaConfig.RopeScaling s = config.ropeScaling();
    switch (s.type()) {
      case "linear" -> {
        for (int i = 0; i < inv.length; i++) {
          inv[i] = inv[i] / (float) s.factor();
        }
      }
      case "llama3" -> applyLlama3(inv, s);
      default -> {}
    }
    return inv;
  }

  /** Mirrors transformers' f32 tensor arithmetic: python scalars become f32 operands. */
  private static void applyLlama3(float[] inv, LlamaConfig.RopeScaling s) {
    float factor = (float) s.factor();
    float lowFreqFactor = (float) s.lowFreqFactor();
    float oldContext = s.originalMaxPositionEmbeddings();
    float lowFreqWavelen = (float) (s.originalMaxPositionEmbeddings() / s.lowFreqFactor());
    float highFreqWavelen = (float) (s.originalMaxPositionEmbeddings() / s.highFreqFactor());
    float span = (float) (s.highFreqFactor() - s.lowFreqFactor());
    float twoPi = (float) (2 * Math.PI);
    for (int i = 0; i < inv.length; i++) {
      float f = inv[i];
      float wavelen = twoPi / f;
      float scaled = wavelen > lowFreqWavelen ? f / factor : f;
      boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      if (medium) {
        float smooth = (oldContext / wavelen - lowFreqFactor) / span;
        scaled = (1 - smooth) * scaled / factor + smooth * scaled;
      }
      inv[i] = scaled;
    }
  }

  /**
   * Cosines and sign-folded sines for positions {@code [start, start + length)}, each {@code [1, 1,
   * length, headDim]}, in {@code manager}; {@code invFreq} is {@code [1, headDim / 2]}. The first
   * half of the sines is negated, so that {@link #apply} needs no negation of {@code x}.
   */
  static NDArray[] cosSin(NDManager manager, NDArray invFreq, int start, int length) {
    NDArray pos = manager.arange(start, start + length, 1, DataType.FLOAT32).reshape(length, 1);
    NDArray freqs = pos.mul(invFreq);
    NDArray emb = NDArrays.concat(new NDList(freqs, freqs), 1);
    NDArray sin = freqs.sin();
    NDArray signedSin = NDArrays.concat(new NDList(sin.neg(), sin), 1);
    return new NDArray[] {emb.cos().reshape(1, 1, length, -1), signedSin.reshape(1, 1, length, -1)};
  }

  /**
   * Applies the rotation to {@code x} of shape {@code [B, heads, T, headDim]}: {@code x * cos +
   * rotate_half(x) * sin} as HF, with {@code rotate_half(x) = [-x2, x1]}. Multiplying the halves
   * swapped by the sign-folded sines of {@link #cosSin} gives the same products exactly, without
   * negating an activation forward and backward.
   */
  static NDArray apply(NDArray x, NDArray cos, NDArray signedSin) {
    long half = x.getShape().get(3) / 2;
    NDList parts = x.split(new long[] {half}, 3);
    NDArray swapped = NDArrays.concat(new NDList(parts.get(1), parts.get(0)), 3);
    return x.mul(cos).add(swapped.mul(signedSin));
  }
}
