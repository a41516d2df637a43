package io.kubetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.safetensors.SafetensorsCheckpoint;
import io.kubetune.trainer.safetensors.SafetensorsException;
import io.kubetune.trainer.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A Llama-family decoder ({@code LlamaForCausalLM}) as plain functions over NDArrays.
 *
 * <p>Base weights are f32 arrays in the model's own long-lived manager and never require gradients
 * unless a caller marks them trainable. Every projection is a {@link Linear} addressed by its
 * Hugging Face module name ({@code model.layers.3.self_attn.q_proj}, {@code lm_head}), so LoRA and
 * QLoRA wrap them through {@link #replaceLinear} without the model knowing.
 *
 * <p>Ownership: {@link #forward} creates its result and all intermediates in {@code inputIds}'
 * manager (activations are always the left operand), never in the model's. Call it inside an {@code
 * NDScope} (or a sub-manager closed per step) so intermediates are freed.
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(dir);
 *     NDManager step = model.manager().newSubManager()) {
 *   NDArray logits = model.forward(step.create(ids, new Shape(1, ids.length)), null, null);
 * }
 * }</pre>
 */
public final class LlamaModel implements AutoCloseable {

  private static final String[] ATTN = {"q_proj", "k_proj", "v_proj", "o_proj"};
  private static final String[] MLP = {"gate_proj", "up_proj", "down_proj"};

  private final LlamaConfig config;
  private final NDManager manager;
  private final Map<String, NDArray> weights;
  private final Map<String, Linear> linears;
  private final Map<String, DenseLinear> baseLinears;
  private final NDArray invFreq;
  private final float scaling;
  private Set<Integer> stopTokenIds;
  private DataType computeType = DataType.FLOAT32;

  private LlamaModel(
      LlamaConfig config,
      NDManager manager,
      Map<String, NDArray> weights,
      Map<String, DenseLinear> baseLinears) {
    this.config = config;
    this.manager = manager;
    this.weights = weights;
    this.baseLinears = baseLinears;
    this.linears = new LinkedHashMap<>(baseLinears);
    float[] inv = Rope.inverseFrequencies(config);
    // Stored as a row so forward never derives arrays from it in the model's manager.
    this.invFreq = manager.create(inv, new Shape(1, inv.length));
    NDScope.unregister(invFreq);
    this.scaling = (float) Math.pow(config.headDim(), -0.5);
    this.stopTokenIds = Set.copyOf(config.eosTokenIds());
  }

  /** Loads a model folder ({@code config.json} + safetensors) into a new base manager. */
  public static LlamaModel load(Path folder) throws ModelConfigException {
    NDManager manager = NDManager.newBaseManager();
    try {
      return load(folder, manager);
    } catch (ModelConfigException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Loads a model folder; weights go into a sub-manager of {@code parent} that the model closes.
   *
   * @throws ModelConfigException when config or weights are missing, corrupt or of the wrong shape;
   *     the message names the file and tensor
   */
  public static LlamaModel load(Path folder, NDManager parent) throws ModelConfigException {
    Offline.enforce();
    LlamaConfig config = LlamaConfig.load(folder);
    NDManager manager = parent.newSubManager();
    manager.setName("llama-weights");
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(folder)) {
      Loader loader = new Loader(config, ckpt, manager);
      LlamaModel model = loader.build();
      model.stopTokenIds = stopTokens(folder, config);
      return model;
    } catch (SafetensorsException e) {
      manager.close();
      throw new ModelConfigException(e.getMessage(), e);
    } catch (ModelConfigException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Reads and shape-checks every tensor of the checkpoint that the model needs. */
  private static final class Loader {
    private final LlamaConfig c;
    private final SafetensorsCheckpoint ckpt;
    private final NDManager manager;
    private final Map<String, NDArray> weights = new LinkedHashMap<>();
    private final Map<String, DenseLinear> linears = new LinkedHashMap<>();

    Loader(LlamaConfig c, SafetensorsCheckpoint ckpt, NDManager manager) {
      this.c = c;
      this.ckpt = ckpt;
      this.manager = manager;
    }

    LlamaModel build() throws ModelConfigException, SafetensorsException {
      int h = c.hiddenSize();
      int q = c.numAttentionHeads() * c.headDim();
      int kv = c.numKeyValueHeads() * c.headDim();
      int ff = c.intermediateSize();
      NDArray embed = tensor("model.embed_tokens.weight", c.vocabSize(), h);
      for (int i = 0; i < c.numHiddenLayers(); i++) {
        String p = "model.layers." + i + ".";
        tensor(p + "input_layernorm.weight", h);
        tensor(p + "post_attention_layernorm.weight", h);
        boolean qkv = c.attentionBias() || c.qkvBias();
        linear(p + "self_attn.q_proj", q, h, qkv);
        linear(p + "self_attn.k_proj", kv, h, qkv);
        linear(p + "self_attn.v_proj", kv, h, qkv);
        linear(p + "self_attn.o_proj", h, q, c.attentionBias());
        linear(p + "mlp.gate_proj", ff, h, c.mlpBias());
        linear(p + "mlp.up_proj", ff, h, c.mlpBias());
        linear(p + "mlp.down_proj", h, ff, c.mlpBias());
      }
      tensor("model.norm.weight", h);
      if (c.tieWordEmbeddings()) {
        linears.put("lm_head", new DenseLinear(embed, null));
      } else {
        if (!ckpt.contains("lm_head.weight")) {
          throw new ModelConfigException(
              ckpt.location()
                  + ": tensor 'lm_head.weight' is missing although config.json has"
                  + " tie_word_embeddings: false; set it to true if the model ties embeddings");
        }
        linear("lm_head", c.vocabSize(), h, false);
      }
      return new LlamaModel(c, manager, weights, linears);
    }

    private void linear(String module, int out, int in, boolean bias)
        throws ModelConfigException, SafetensorsException {
      NDArray w = tensor(module + ".weight", out, in);
      NDArray b = bias ? tensor(module + ".bias", out) : null;
      linears.put(module, new DenseLinear(w, b));
    }

    private NDArray tensor(String name, long... shape)
        throws ModelConfigException, SafetensorsException {
      if (!ckpt.contains(name)) {
        throw new ModelConfigException(
            ckpt.location()
                + ": tensor '"
                + name
                + "' is missing; the checkpoint does not match config.json (model_type "
                + c.modelType()
                + ", "
                + c.numHiddenLayers()
                + " layers)");
      }
      TensorInfo info = ckpt.info(name);
      if (!Arrays.equals(info.shape(), shape)) {
        throw new ModelConfigException(
            ckpt.location()
                + ": tensor '"
                + name
                + "' has shape "
                + Arrays.toString(info.shape())
                + " but config.json implies "
                + Arrays.toString(shape));
      }
      NDArray array = ckpt.loadFloat32(manager, name);
      // Weights live as long as the model, even when it is loaded inside a caller's NDScope.
      NDScope.unregister(array);
      array.setName(name);
      weights.put(name, array);
      return array;
    }
  }

  /**
   * EOS ids of {@code config.json} plus those of {@code generation_config.json}: chat models often
   * list their end-of-turn token only in the latter, and transformers' generate() stops on both.
   */
  private static Set<Integer> stopTokens(Path folder, LlamaConfig config)
      throws ModelConfigException {
    Set<Integer> ids = new LinkedHashSet<>(config.eosTokenIds());
    Path file = folder.resolve("generation_config.json");
    if (Files.isRegularFile(file)) {
      JsonNode eos;
      try {
        eos = new ObjectMapper().readTree(file.toFile()).get("eos_token_id");
      } catch (IOException e) {
        throw new ModelConfigException(file + ": not valid JSON: " + e.getMessage(), e);
      }
      if (eos != null && eos.isIntegralNumber()) {
        ids.add(eos.asInt());
      } else if (eos != null && eos.isArray()) {
        eos.forEach(n -> ids.add(n.asInt()));
      } else if (eos != null && !eos.isNull()) {
        throw new ModelConfigException(
            file + ": field 'eos_token_id' must be an integer or a list of integers");
      }
    }
    return Set.copyOf(ids);
  }

  /** Token ids that end generation by default (config.json and generation_config.json EOS). */
  public Set<Integer> stopTokenIds() {
    return stopTokenIds;
  }

  /** The configuration this model was built from. */
  public LlamaConfig config() {
    return config;
  }

  /** The manager that owns the base weights; closed with the model. */
  public NDManager manager() {
    return manager;
  }

  /** The projections by Hugging Face module name, in layer order, {@code lm_head} last. */
  public Map<String, Linear> linears() {
    return Collections.unmodifiableMap(linears);
  }

  /**
   * The projection of a module.
   *
   * @throws IllegalArgumentException for an unknown module name
   */
  public Linear linear(String name) {
    Linear l = linears.get(name);
    if (l == null) {
      throw new IllegalArgumentException(
          "no projection named '"
              + name
              + "'; known: q_proj, k_proj, v_proj, o_proj, gate_proj,"
              + " up_proj, down_proj (under model.layers.N.) and lm_head");
    }
    return l;
  }

  /**
   * Replaces a projection by {@code wrap(current)}, e.g. a LoRA layer around the frozen one.
   *
   * @throws IllegalArgumentException for an unknown name or a wrapper of different width
   */
  public void replaceLinear(String name, Function<Linear, Linear> wrap) {
    Linear current = linear(name);
    Linear next = wrap.apply(current);
    if (next.inFeatures() != current.inFeatures() || next.outFeatures() != current.outFeatures()) {
      throw new IllegalArgumentException(
          name
              + ": replacement must keep ["
              + current.outFeatures()
              + ", "
              + current.inFeatures()
              + "]");
    }
    linears.put(name, next);
  }

  /** Names of all base tensors, as in the checkpoint ({@code lm_head.weight} only when untied). */
  public Set<String> weightNames() {
    return Collections.unmodifiableSet(weights.keySet());
  }

  /**
   * A base tensor by checkpoint name, owned by the model (do not close). Full and partial
   * fine-tuning mark it trainable with {@code setRequiresGradient(true)} and update it in place.
   */
  public NDArray weight(String name) {
    NDArray w = weights.get(name);
    if (w == null) {
      throw new IllegalArgumentException("no base weight named '" + name + "'");
    }
    return w;
  }

  /**
   * Replaces a base tensor by one of the same shape; the model takes ownership of {@code value} and
   * closes the old array. Projections (even when wrapped) and tied embeddings see the new weight.
   */
  public void replaceWeight(String name, NDArray value) {
    NDArray old = weight(name);
    if (!old.getShape().equals(value.getShape())) {
      throw new IllegalArgumentException(
          name + ": new weight " + value.getShape() + " does not match " + old.getShape());
    }
    NDArray fresh = value.toType(DataType.FLOAT32, false);
    NDScope.unregister(fresh);
    fresh.attach(manager);
    fresh.setName(name);
    weights.put(name, fresh);
    for (DenseLinear d : baseLinears.values()) {
      if (d.weight() == old) {
        d.setWeight(fresh);
      }
      if (d.bias() == old) {
        d.setBias(fresh);
      }
    }
    if (fresh != value) {
      value.close();
    }
    old.close();
  }

  /**
   * Closes and forgets the base tensor of a projection that no longer reads it, so its memory is
   * returned; QLoRA calls this after replacing a projection by a quantized copy. The caller
   * guarantees that the current projection (and anything wrapping it) does not use the tensor.
   *
   * @throws IllegalArgumentException for an unknown name or a tensor that is not the weight or bias
   *     of a projection that has been replaced
   */
  public void releaseWeight(String name) {
    NDArray w = weight(name);
    if (name.equals("model.embed_tokens.weight")) {
      throw new IllegalArgumentException(name + " is read by the embedding and cannot be released");
    }
    for (Map.Entry<String, DenseLinear> e : baseLinears.entrySet()) {
      DenseLinear d = e.getValue();
      if (d.weight() == w || d.bias() == w) {
        if (linears.get(e.getKey()) == d) {
          throw new IllegalArgumentException(
              name + " is still read by projection " + e.getKey() + "; replace it first");
        }
        weights.remove(name);
        w.close();
        return;
      }
    }
    throw new IllegalArgumentException(
        name + " is not the weight of a projection; only projection weights can be released");
  }

  /** The type matrix products run in: fp32, or fp16 after {@link #useFp16Compute()}. */
  public DataType computeType() {
    return computeType;
  }

  /**
   * Switches to fp16 mixed precision: every projection and embedding weight that does not require
   * gradients is converted to fp16 in place (halving its memory) and matrix products run in fp16,
   * while the residual stream, RMSNorm, softmax and the returned logits stay fp32. Trainable
   * weights stay fp32 masters that projections cast per forward. Call it after the fine-tuning
   * method has marked or wrapped what it trains. A tensor whose values do not fit fp16 (|x| >
   * 65504) stays fp32.
   *
   * @return bytes of base weights after the conversion
   */
  public long useFp16Compute() {
    computeType = DataType.FLOAT16;
    long bytes = 0;
    for (Map.Entry<String, NDArray> e : weights.entrySet()) {
      String name = e.getKey();
      NDArray old = e.getValue();
      boolean norm = name.endsWith("norm.weight");
      if (!norm && !old.hasGradient() && old.getDataType() == DataType.FLOAT32 && fitsFp16(old)) {
        NDArray half = old.toType(DataType.FLOAT16, false);
        NDScope.unregister(half);
        half.attach(manager);
        half.setName(name);
        e.setValue(half);
        for (DenseLinear d : baseLinears.values()) {
          if (d.weight() == old) {
            d.setWeight(half);
          }
          if (d.bias() == old) {
            d.setBias(half);
          }
        }
        old.close();
      }
      NDArray now = e.getValue();
      bytes += now.size() * now.getDataType().getNumOfBytes();
    }
    return bytes;
  }

  private static boolean fitsFp16(NDArray w) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      return w.abs().max().getFloat() <= 65504f;
    }
  }

  /** A new empty cache for incremental decoding; close it when done. */
  public KvCache newCache(NDManager parent) {
    return new KvCache(parent, config.numHiddenLayers());
  }

  /**
   * Runs the decoder.
   *
   * @param inputIds token ids {@code [B, T]} (int32 or int64)
   * @param attentionMask {@code [B, past + T]} with 1 for real tokens and 0 for padding, or null
   *     for no padding. Batches must be right-padded: padded positions produce logits that are
   *     ignored, and real tokens never attend to them.
   * @param cache keys/values of earlier positions (extended by this call), or null
   * @return logits {@code [B, T, vocab]} in f32, in {@code inputIds}' manager
   */
  public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
    return head(hiddenStates(inputIds, attentionMask, cache));
  }

  /**
   * Applies {@code lm_head} to hidden states of {@link #hiddenStates} (any leading shape, e.g. the
   * {@code [N, hidden]} rows of selected positions).
   *
   * @return f32 logits {@code [..., vocab]}
   */
  public NDArray head(NDArray hidden) {
    // The loss and sampling read fp32 logits (autocast computes the loss in fp32 too).
    return Casts.to(
        linears.get("lm_head").forward(Casts.to(hidden, computeType)), DataType.FLOAT32);
  }

  /**
   * Runs the decoder up to and including the final norm, without {@code lm_head}; lets a training
   * loop apply the head to selected positions only (e.g. completion tokens) instead of
   * materializing {@code [B, T, vocab]}.
   *
   * @return hidden states {@code [B, T, hidden]}; same arguments and ownership as {@link #forward}
   */
  public NDArray hiddenStates(NDArray inputIds, NDArray attentionMask, KvCache cache) {
    Shape s = inputIds.getShape();
    if (s.dimension() != 2) {
      throw new IllegalArgumentException("inputIds must be [batch, seq], got " + s);
    }
    int b = (int) s.get(0);
    int t = (int) s.get(1);
    int past = cache == null ? 0 : cache.length();
    int total = past + t;
    if (total > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException(
          "sequence of "
              + total
              + " tokens exceeds max_position_embeddings "
              + config.maxPositionEmbeddings());
    }
    NDManager m = inputIds.getManager();
    checkIds(inputIds);
    NDArray ids =
        inputIds.getDataType() == DataType.INT64
            ? inputIds
            : inputIds.toType(DataType.INT64, false);
    NDArray h =
        Embedding.embedding(ids, weights.get("model.embed_tokens.weight"), SparseFormat.DENSE)
            .singletonOrThrow();
    // The residual stream stays fp32 under fp16 compute (as autocast keeps it).
    h = Casts.to(h, DataType.FLOAT32);
    NDArray[] cosSin = Rope.cosSin(m, invFreq, past, t);
    if (computeType != DataType.FLOAT32) {
      cosSin =
          new NDArray[] {
            cosSin[0].toType(computeType, false), cosSin[1].toType(computeType, false)
          };
    }
    // Additive bias, 0 where a key is visible and f32 min elsewhere (transformers' fill value);
    // DJL's where() does not broadcast, addition does.
    NDArray maskBias =
        attentionMask(m, attentionMask, b, t, past)
            .toType(DataType.FLOAT32, false)
            .sub(1f)
            .mul(Float.MAX_VALUE);
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      String p = "model.layers." + i + ".";
      // A scope per layer frees the layer's temporaries as soon as it is done, as Python's
      // reference counting does; otherwise every intermediate of every layer stays alive until the
      // caller's step scope closes. Autograd holds its own references to the tensors it saved, so
      // closing our handles never takes them away from backward. Only the layer output survives.
      try (NDScope layer = new NDScope()) {
        layer.suppressNotUsedWarning();
        NDArray x = Casts.to(rmsNorm(h, weights.get(p + "input_layernorm.weight")), computeType);
        NDArray mid = h.add(attention(i, p, x, cosSin, maskBias, cache));
        x = Casts.to(rmsNorm(mid, weights.get(p + "post_attention_layernorm.weight")), computeType);
        h = mid.add(mlp(p, x));
        NDScope.unregister(h);
      }
      NDScope.register(h);
    }
    h = rmsNorm(h, weights.get("model.norm.weight"));
    if (cache != null) {
      cache.advance(t);
    }
    return h;
  }

  /** Rejects ids outside the vocabulary, which would otherwise fail deep inside PyTorch. */
  private void checkIds(NDArray inputIds) {
    if (inputIds.getShape().size() == 0) {
      throw new IllegalArgumentException("inputIds is empty");
    }
    long min = inputIds.min().toType(DataType.INT64, false).getLong();
    long max = inputIds.max().toType(DataType.INT64, false).getLong();
    if (min < 0 || max >= config.vocabSize()) {
      throw new IllegalArgumentException(
          "token id "
              + (min < 0 ? min : max)
              + " is outside the vocabulary [0, "
              + config.vocabSize()
              + "); the tokenizer does not belong to this model");
    }
  }

  /** Boolean {@code [B or 1, 1, T, past + T]}: causal, and keys must be real tokens. */
  private static NDArray attentionMask(NDManager m, NDArray mask, int b, int t, int past) {
    int total = past + t;
    NDArray keyPos = m.arange(0, total, 1, DataType.INT64).reshape(1, total);
    NDArray queryPos = m.arange(past, total, 1, DataType.INT64).reshape(t, 1);
    NDArray allowed = keyPos.lte(queryPos).reshape(1, 1, t, total);
    if (mask == null) {
      return allowed;
    }
    Shape ms = mask.getShape();
    if (ms.dimension() != 2 || ms.get(0) != b || ms.get(1) != total) {
      throw new IllegalArgumentException(
          "attentionMask must be [" + b + ", " + total + "] (batch, past + new tokens), got " + ms);
    }
    return allowed.logicalAnd(mask.gt(0).reshape(b, 1, 1, total));
  }

  private NDArray attention(
      int layer, String p, NDArray x, NDArray[] cosSin, NDArray maskBias, KvCache cache) {
    Shape s = x.getShape();
    long b = s.get(0);
    long t = s.get(1);
    int hd = config.headDim();
    NDArray q = heads(linears.get(p + "self_attn.q_proj").forward(x), b, t, hd);
    NDArray k = heads(linears.get(p + "self_attn.k_proj").forward(x), b, t, hd);
    NDArray v = heads(linears.get(p + "self_attn.v_proj").forward(x), b, t, hd);
    q = Rope.apply(q, cosSin[0], cosSin[1]);
    k = Rope.apply(k, cosSin[0], cosSin[1]);
    if (cache != null) {
      NDArray[] kv = cache.append(layer, k, v);
      k = kv[0];
      v = kv[1];
    }
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    long groups = config.kvGroups();
    long total = k.getShape().get(2);
    // Grouped-query attention without copying keys and values per query head: query head j reads
    // kv head j / groups (HF repeat_kv), so the queries of one kv head's group are stacked along
    // the sequence axis, [B, kvHeads, groups * T, hd], and multiply that kv head's keys directly.
    // Scaling q [B, H, T, hd] costs T / hd times less than scaling the scores [B, H, T, T] (and
    // is exact for power-of-two head sizes). The [B, H, T, T] temporaries that backward does not
    // need (softmax saves only its output) are freed at once instead of at the end of the layer.
    NDArray grouped = Scalars.mul(q, scaling).reshape(b, kvHeads, groups * t, hd);
    NDArray scores = grouped.matMul(k.transpose(0, 1, 3, 2)).reshape(b, heads, t, total);
    // Under fp16 the fp32 mask promotes the scores to fp32: softmax runs in fp32, as autocast does.
    NDArray masked = scores.add(maskBias);
    scores.close();
    NDArray probs = Casts.to(masked.softmax(-1), v.getDataType());
    masked.close();
    NDArray out =
        probs
            .reshape(b, kvHeads, groups * t, total)
            .matMul(v)
            .reshape(b, heads, t, hd)
            .transpose(0, 2, 1, 3)
            .reshape(b, t, (long) heads * hd);
    return linears.get(p + "self_attn.o_proj").forward(out);
  }

  private static NDArray heads(NDArray projected, long b, long t, int hd) {
    return projected.reshape(b, t, -1, hd).transpose(0, 2, 1, 3);
  }

  private NDArray mlp(String p, NDArray x) {
    NDArray gate = linears.get(p + "mlp.gate_proj").forward(x);
    NDArray up = linears.get(p + "mlp.up_proj").forward(x);
    return linears.get(p + "mlp.down_proj").forward(gate.mul(Activation.sigmoid(gate)).mul(up));
  }

  /**
   * RMSNorm as HF: normalize in f32, then scale by the weight (activation stays the left operand).
   *
   * <p>Multiplies by {@code 1 / sqrt(variance + eps)} computed on {@code [B, T, 1]}, which is how
   * torch's CPU {@code rsqrt} computes it: dividing the full activation instead costs a more
   * expensive backward over {@code [B, T, hidden]}.
   */
  private NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray variance = x.square().mean(new int[] {-1}, true);
    NDArray std = variance.add((float) config.rmsNormEps()).sqrt();
    NDArray inverse = Scalars.reciprocal(std);
    return x.mul(inverse).mul(weight);
  }

  @Override
  public void close() {
    manager.close();
  }
}
