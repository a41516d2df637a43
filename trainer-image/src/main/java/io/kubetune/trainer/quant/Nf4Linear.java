package io.kubetune.trainer.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import io.kubetune.trainer.model.Casts;
import io.kubetune.trainer.model.Linear;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A frozen projection whose weight is stored as NF4 ({@link Nf4Tensor}'s layout) and dequantized to
 * fp32 on every call.
 *
 * <p>Only the packed uint8 indices and the constants are resident; {@link #forward} rebuilds the
 * weight with engine ops (one gather of the byte-to-pair table, one broadcast multiply by the block
 * absmax) in the input's manager, so the fp32 copy is a temporary of the caller's step. Nothing
 * here requires gradients: backpropagation reaches the input (and LoRA around this layer) only.
 */
public final class Nf4Linear implements Linear {

  private final int out;
  private final int in;
  private final int blockSize;
  private final int doubleQuantBlockSize;
  private final Nf4Tables tables;
  private final NDArray packed;
  private final NDArray absmax;
  private final NDArray quantizedAbsmax;
  private final NDArray absmax2;
  private final NDArray offset;
  private final NDArray bias;
  private final long bytes;

  /**
   * Puts a quantized weight on the engine.
   *
   * @param weight the NF4 weight {@code [out, in]}
   * @param bias fp32 bias {@code [out]} (kept as is, shared with the caller), or null
   * @param tables the shared code tables
   * @param manager long-lived manager that owns the packed arrays (the model's)
   */
  public Nf4Linear(Nf4Tensor weight, NDArray bias, Nf4Tables tables, NDManager manager) {
    long[] shape = weight.shape();
    if (shape.length != 2) {
      throw new IllegalArgumentException(
          "an NF4 projection needs a 2-d weight [out, in], got " + shape.length + " dimensions");
    }
    if (bias != null && bias.size() != shape[0]) {
      throw new IllegalArgumentException(
          "bias "
              + bias.getShape()
              + " does not match weight ["
              + shape[0]
              + ", "
              + shape[1]
              + "]");
    }
    this.out = Math.toIntExact(shape[0]);
    this.in = Math.toIntExact(shape[1]);
    this.blockSize = weight.blockSize();
    this.tables = tables;
    this.bias = bias;
    byte[] p = weight.packed();
    this.packed = manager.create(ByteBuffer.wrap(p), new Shape(p.length), DataType.UINT8);
    int blocks = Nf4.blocks(weight.size(), blockSize);
    List<NDArray> owned = new ArrayList<>();
    owned.add(packed);
    if (weight.doubleQuant()) {
      DynamicMap.Quantized q = weight.quantizedAbsmax();
      this.doubleQuantBlockSize = q.blockSize();
      this.absmax = null;
      this.quantizedAbsmax =
          manager.create(ByteBuffer.wrap(q.indices()), new Shape(blocks), DataType.UINT8);
      float[] a2 = q.absmax();
      this.absmax2 = manager.create(a2, new Shape(a2.length, 1));
      // An array, not a Java float: DJL turns a Number operand into a throwaway scalar tensor
      // backed by a Java direct buffer, one per layer per step.
      this.offset = manager.create(new float[] {weight.offset()}, new Shape(1));
      owned.add(quantizedAbsmax);
      owned.add(absmax2);
      owned.add(offset);
    } else {
      this.doubleQuantBlockSize = 0;
      float[] a = weight.absmax();
      this.absmax = manager.create(a, new Shape(a.length, 1));
      this.quantizedAbsmax = null;
      this.absmax2 = null;
      this.offset = null;
      owned.add(absmax);
    }
    // The quantized weight lives with the model, not with whatever scope built it.
    NDScope.unregister(owned.toArray(NDArray[]::new));
    long resident = 0;
    for (NDArray a : owned) {
      resident += a.size() * a.getDataType().getNumOfBytes();
    }
    this.bytes = resident;
  }

  @Override
  public NDArray forward(NDArray x) {
    NDArray w = Casts.to(dequantize(x.getManager()), x.getDataType());
    NDArray b = bias == null ? null : Casts.to(bias, x.getDataType(), x.getManager());
    return ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow();
  }

  /**
   * The fp32 weight {@code [out, in]} rebuilt from the packed codes, created in {@code manager}
   * (the caller's step manager) so it is freed with the step.
   */
  public NDArray dequantize(NDManager manager) {
    NDArray scale = absmax != null ? absmax : dequantizeAbsmax(manager).reshape(absmaxBlocks(), 1);
    NDArray indices = own(manager, packed.toType(DataType.INT32, false));
    NDArray values =
        Embedding.embedding(indices, tables.pairs(), SparseFormat.DENSE).singletonOrThrow();
    NDArray w = scaleBlocks(manager, values, scale, blockSize, (long) out * in);
    return w.reshape(out, in);
  }

  /** {@code code8[q] * absmax2 + offset} for every NF4 block, as a flat array in {@code m}. */
  private NDArray dequantizeAbsmax(NDManager m) {
    NDArray q = own(m, quantizedAbsmax.toType(DataType.INT32, false));
    NDArray codes = Embedding.embedding(q, tables.dynamic(), SparseFormat.DENSE).singletonOrThrow();
    return scaleBlocks(m, codes, absmax2, doubleQuantBlockSize, absmaxBlocks()).add(offset);
  }

  /**
   * Multiplies {@code n} values (left operand, in {@code m}) by their block's scale ({@code
   * [blocks, 1]}); returns a flat {@code [n]} array in {@code m}.
   */
  private static NDArray scaleBlocks(NDManager m, NDArray values, NDArray scale, int bs, long n) {
    long blocks = scale.size();
    if (blocks * bs == n) {
      return values.reshape(blocks, bs).mul(scale).reshape(n);
    }
    // A short last block: expand the scales per element instead of reshaping into full blocks.
    NDArray expanded = own(m, scale.repeat(0, bs)).reshape(-1).get(new NDIndex("0:" + n));
    return values.reshape(-1).get(new NDIndex("0:" + n)).mul(expanded);
  }

  /** Moves a result of an op on a long-lived array into the step's manager. */
  private static NDArray own(NDManager m, NDArray a) {
    a.attach(m);
    return a;
  }

  private long absmaxBlocks() {
    return Nf4.blocks((long) out * in, blockSize);
  }

  @Override
  public int inFeatures() {
    return in;
  }

  @Override
  public int outFeatures() {
    return out;
  }

  /** Always empty: the quantized base is frozen. */
  @Override
  public List<NDArray> trainableParameters() {
    return List.of();
  }

  /**
   * Resident bytes of the packed weight and its constants as held by the engine (without the shared
   * tables and the bias), measured from the arrays' sizes and types.
   */
  public long residentBytes() {
    return bytes;
  }

  /** The packed indices as stored, for checks that the base never changes. */
  public byte[] packedBytes() {
    return packed.toByteArray();
  }

  /** Elements per NF4 block. */
  public int blockSize() {
    return blockSize;
  }

  /** Whether the absmax constants are double quantized. */
  public boolean doubleQuant() {
    return quantizedAbsmax != null;
  }
}
