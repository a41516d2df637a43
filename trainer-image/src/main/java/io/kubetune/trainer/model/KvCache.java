package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/**
 * Keys and values of past positions for incremental decoding, one pair per layer, shaped {@code [B,
 * kvHeads, past, headDim]} (after rotary embedding, before grouping).
 *
 * <p>The cache owns its arrays in its own manager, so they survive the caller's per-token {@link
 * NDScope}; close the cache to free them. Arrays that attention derives from cached keys land in
 * the cache's manager too, so decode each token inside an {@code NDScope} (as {@link Generator}
 * does) or they accumulate until the cache is closed.
 */
public final class KvCache implements AutoCloseable {

  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;
  private int length;

  /**
   * Creates an empty cache.
   *
   * @param parent manager whose sub-manager will own the cached arrays
   * @param layers number of decoder layers
   */
  public KvCache(NDManager parent, int layers) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
  }

  /** Number of cached positions. */
  public int length() {
    return length;
  }

  /**
   * Appends a layer's new keys and values and returns the full ones (owned by the cache: valid
   * until the next call for this layer or {@link #close}).
   */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    NDArray fullK = keys[layer] == null ? k.duplicate() : concat(keys[layer], k);
    NDArray fullV = values[layer] == null ? v.duplicate() : concat(values[layer], v);
    // Move into the cache's manager and out of any enclosing scope, then free the old pair.
    NDScope.unregister(fullK, fullV);
    fullK.attach(manager);
    fullV.attach(manager);
    if (keys[layer] != null) {
      keys[layer].close();
      values[layer].close();
    }
    keys[layer] = fullK;
    values[layer] = fullV;
    return new NDArray[] {fullK, fullV};
  }

  private static NDArray concat(NDArray past, NDArray now) {
    return NDArrays.concat(new NDList(past, now), 2);
  }

  /** Records that a forward pass of {@code tokens} positions has been appended to every layer. */
  void advance(int tokens) {
    length += tokens;
  }

  @Override
  public void close() {
    manager.close();
  }
}
