package io.kubetune.trainer.full;

import ai.djl.ndarray.NDArray;
import io.kubetune.trainer.model.LlamaModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Chooses which base weights of a {@link LlamaModel} train, marks them as requiring gradients and
 * hands them to the training loop: {@code
 * FineTuner.TrainingJob.builder().setParameters(w.arrays())}.
 *
 * <ul>
 *   <li>{@link #full}: every tensor (embeddings, norms, all projections, untied {@code lm_head}).
 *   <li>{@link #partial}: the top {@code topLayers} transformer layers and/or named modules. A
 *       module name matches a weight when its dot-separated parts occur in the weight's name:
 *       {@code lm_head}, {@code model.norm}, {@code mlp} (every layer's MLP), {@code
 *       layers.3.self_attn}, {@code q_proj}. With tied embeddings {@code lm_head} is the embedding
 *       matrix, so naming either trains both uses of it.
 * </ul>
 *
 * <p>Everything not selected keeps {@code requiresGradient == false}; the optimizer never sees it,
 * so it stays bit-identical.
 */
public final class TrainableWeights {

  private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.");

  private final Map<String, NDArray> selected;

  private TrainableWeights(Map<String, NDArray> selected) {
    this.selected = Collections.unmodifiableMap(selected);
  }

  /** Every base weight of the model trains. */
  public static TrainableWeights full(LlamaModel model) {
    return mark(model, new LinkedHashSet<>(model.weightNames()));
  }

  /**
   * The top {@code topLayers} layers and the named modules train; the rest is frozen.
   *
   * @param topLayers number of last transformer layers to train (0: none)
   * @param modules module names (see class comment); may be empty
   * @throws IllegalArgumentException when nothing would train, {@code topLayers} is out of range,
   *     or a module name matches no weight (the message lists examples of valid names)
   */
  public static TrainableWeights partial(LlamaModel model, int topLayers, List<String> modules) {
    int layers = model.config().numHiddenLayers();
    if (topLayers < 0 || topLayers > layers) {
      throw new IllegalArgumentException(
          "method.trainableLayers must be between 0 and "
              + layers
              + " (the model's num_hidden_layers), got "
              + topLayers);
    }
    Set<String> names = new LinkedHashSet<>();
    for (String name : model.weightNames()) {
      Matcher m = LAYER.matcher(name);
      if (m.find() && Integer.parseInt(m.group(1)) >= layers - topLayers) {
        names.add(name);
      }
    }
    boolean tied = model.config().tieWordEmbeddings();
    for (String module : modules == null ? List.<String>of() : modules) {
      String wanted = module.strip();
      if (wanted.isEmpty()) {
        throw new IllegalArgumentException("method.trainableModules holds an empty module name");
      }
      boolean found = false;
      for (String name : model.weightNames()) {
        if (matches(name, wanted) || (tied && wanted.equals("lm_head") && isEmbedding(name))) {
          names.add(name);
          found = true;
        }
      }
      if (!found) {
        throw new IllegalArgumentException(
            "method.trainableModules: '"
                + wanted
                + "' matches no weight of the model; use names such as lm_head, model.norm,"
                + " model.embed_tokens, mlp, self_attn, q_proj or layers.0.mlp");
      }
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(
          "method.type partial selects nothing to train; set method.trainableLayers >= 1 or list"
              + " method.trainableModules");
    }
    return mark(model, names);
  }

  private static boolean isEmbedding(String name) {
    return name.equals("model.embed_tokens.weight");
  }

  /** Whether {@code module}'s parts appear as consecutive parts of the weight's module path. */
  static boolean matches(String weightName, String module) {
    String path = "." + weightName.substring(0, weightName.lastIndexOf('.')) + ".";
    return path.contains("." + module + ".");
  }

  private static TrainableWeights mark(LlamaModel model, Set<String> names) {
    Map<String, NDArray> selected = new LinkedHashMap<>();
    for (String name : model.weightNames()) {
      NDArray w = model.weight(name);
      boolean train = names.contains(name);
      w.setRequiresGradient(train);
      if (train) {
        selected.put(name, w);
      }
    }
    return new TrainableWeights(selected);
  }

  /** Trainable tensors by checkpoint name, in the model's order. */
  public Map<String, NDArray> byName() {
    return selected;
  }

  /** The trainable arrays, as {@code FineTuner} and {@code AdamW} take them. */
  public List<NDArray> arrays() {
    return new ArrayList<>(selected.values());
  }

  /** Number of trainable scalars. */
  public long parameterCount() {
    return parameterCount(arrays());
  }

  /** Number of scalars in {@code arrays}. */
  public static long parameterCount(List<NDArray> arrays) {
    long n = 0;
    for (NDArray a : arrays) {
      n += a.getShape().size();
    }
    return n;
  }

  /**
   * Bytes of AdamW state for these arrays: two f32 moment estimates per trainable scalar, which is
   * what makes full fine-tuning cost several times the model's own memory.
   */
  public static long adamWStateBytes(List<NDArray> arrays) {
    long bytes = 0;
    for (NDArray a : arrays) {
      bytes += 2L * a.getShape().size() * a.getDataType().getNumOfBytes();
    }
    return bytes;
  }
}
