package io.kubetune.trainer.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.lora.LoraLinear;
import io.kubetune.trainer.model.Linear;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsFile;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import io.kubetune.trainer.safetensors.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Reads and writes PEFT LoRA adapter folders (design §5): {@code adapter_config.json} and {@code
 * adapter_model.safetensors} with tensors {@code base_model.model.<module>.lora_A.weight [r, in]}
 * and {@code ...lora_B.weight [out, r]} in F32.
 */
public final class PeftAdapter {

  /** The config file name. */
  public static final String CONFIG_FILE = "adapter_config.json";

  /** The weights file name. */
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PeftAdapter() {}

  /**
   * Writes an adapter folder (created if missing; existing adapter files are replaced).
   *
   * @param adapter the trained adapters
   * @param dir the folder
   * @param baseModel {@code base_model_name_or_path} (the base model URI)
   * @return path, digest, rank and base model of the written adapter
   */
  public static AdapterInfo export(LoraAdapter adapter, Path dir, String baseModel)
      throws IOException {
    Files.createDirectories(dir);
    LoraConfig c = adapter.config();
    double alpha = c.alpha();
    Number alphaJson = alpha == Math.rint(alpha) ? (Number) (long) alpha : (Number) alpha;
    PeftAdapterConfig config =
        new PeftAdapterConfig(
            "LORA",
            "CAUSAL_LM",
            baseModel,
            c.rank(),
            alphaJson,
            c.dropout(),
            LoraConfig.targetSuffixes(adapter.layers().keySet()),
            "none",
            c.useRslora(),
            false,
            null,
            false,
            true,
            true,
            Map.of(),
            Map.of(),
            null,
            null,
            null);
    SafetensorsWriter writer = new SafetensorsWriter();
    for (Map.Entry<String, NDArray> e : adapter.namedParameters().entrySet()) {
      writer.add(e.getKey(), e.getValue(), DType.F32);
    }
    writer.write(dir.resolve(WEIGHTS_FILE));
    Path tmp = dir.resolve(CONFIG_FILE + ".tmp");
    JSON.writeValue(tmp.toFile(), config);
    Files.move(tmp, dir.resolve(CONFIG_FILE), StandardCopyOption.REPLACE_EXISTING);
    return new AdapterInfo(dir.toString(), digest(dir), c.rank(), baseModel);
  }

  /** Reads and checks {@code adapter_config.json}. */
  public static PeftAdapterConfig readConfig(Path dir) throws IOException {
    Path file = dir.resolve(CONFIG_FILE);
    PeftAdapterConfig cfg;
    try {
      cfg = JSON.readValue(file.toFile(), PeftAdapterConfig.class);
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new IOException(file + " is missing: is " + dir + " a PEFT adapter folder?", e);
    }
    require(file, "LORA".equals(cfg.peftType()), "peft_type must be LORA, got " + cfg.peftType());
    require(file, cfg.r() != null && cfg.r() > 0, "r must be a positive rank");
    require(file, cfg.loraAlpha() != null, "lora_alpha is missing");
    require(file, !Boolean.TRUE.equals(cfg.useDora()), "DoRA adapters are not supported");
    require(
        file,
        cfg.bias() == null || "none".equals(cfg.bias()),
        "bias must be none, not " + cfg.bias());
    require(
        file,
        cfg.modulesToSave() == null || cfg.modulesToSave().isEmpty(),
        "modules_to_save is not supported");
    require(
        file,
        (cfg.rankPattern() == null || cfg.rankPattern().isEmpty())
            && (cfg.alphaPattern() == null || cfg.alphaPattern().isEmpty()),
        "rank_pattern/alpha_pattern are not supported");
    require(file, cfg.layersToTransform() == null, "layers_to_transform is not supported");
    require(
        file,
        cfg.targetModules() != null && !cfg.targetModules().isEmpty(),
        "target_modules is missing");
    return cfg;
  }

  /**
   * Loads an adapter folder onto a model: wraps the projections it targets and fills {@code A} and
   * {@code B} from the file.
   *
   * @param dir the adapter folder
   * @param linears the model's projections by HF module name, in model order
   * @param replace the model's {@code replaceLinear}
   * @param manager owns the loaded weights
   * @return the loaded adapters (in evaluation mode)
   */
  public static LoraAdapter load(
      Path dir,
      Map<String, Linear> linears,
      BiConsumer<String, Function<Linear, Linear>> replace,
      NDManager manager)
      throws IOException {
    PeftAdapterConfig cfg = readConfig(dir);
    LoraConfig config =
        LoraConfig.builder()
            .setRank(cfg.r())
            .optAlpha(cfg.loraAlpha().doubleValue())
            .optDropout(cfg.loraDropout() == null ? 0 : cfg.loraDropout())
            .optTargetModules(cfg.targetModules())
            .optUseRslora(Boolean.TRUE.equals(cfg.useRslora()))
            .build();
    Path weights = dir.resolve(WEIGHTS_FILE);
    if (!Files.exists(weights)) {
      throw new IOException(weights + " is missing: is " + dir + " a PEFT adapter folder?");
    }
    try (SafetensorsFile file = SafetensorsFile.open(weights)) {
      // Check the file before touching the model, so a bad adapter leaves the model as it was.
      List<String> targets = config.resolveTargets(linears.keySet());
      TreeSet<String> unused = new TreeSet<>(file.tensors().keySet());
      for (String name : targets) {
        Linear base = linears.get(name);
        String prefix = LoraAdapter.PEFT_PREFIX + name;
        checkShape(file, prefix + ".lora_A.weight", cfg.r(), base.inFeatures());
        checkShape(file, prefix + ".lora_B.weight", base.outFeatures(), cfg.r());
        unused.remove(prefix + ".lora_A.weight");
        unused.remove(prefix + ".lora_B.weight");
      }
      if (!unused.isEmpty()) {
        throw new IOException(
            weights + ": tensors " + unused + " match no targeted module of this model");
      }
      LoraAdapter adapter = LoraAdapter.apply(config, linears, replace, manager, 0);
      for (Map.Entry<String, LoraLinear> e : adapter.layers().entrySet()) {
        String prefix = LoraAdapter.PEFT_PREFIX + e.getKey();
        e.getValue().loraA().set(file.readFloats(prefix + ".lora_A.weight"));
        e.getValue().loraB().set(file.readFloats(prefix + ".lora_B.weight"));
      }
      return adapter;
    }
  }

  /**
   * Loads an adapter folder onto a Llama model (see {@link #load(Path, Map, BiConsumer,
   * NDManager)}).
   */
  public static LoraAdapter load(Path dir, LlamaModel model, NDManager manager) throws IOException {
    return load(dir, model.linears(), model::replaceLinear, manager);
  }

  private static void checkShape(SafetensorsFile file, String name, long rows, long cols)
      throws IOException {
    if (!file.contains(name)) {
      throw new IOException(file.path() + ": tensor '" + name + "' is missing");
    }
    TensorInfo info = file.info(name);
    long[] expected = {rows, cols};
    if (!Arrays.equals(info.shape(), expected)) {
      throw new IOException(
          file.path()
              + ": tensor '"
              + name
              + "' has shape "
              + Arrays.toString(info.shape())
              + ", expected "
              + Arrays.toString(expected)
              + " (does the adapter belong to this base model?)");
    }
  }

  /**
   * The adapter digest: {@code sha256:<hex>} over the bytes of {@code adapter_config.json} followed
   * by those of {@code adapter_model.safetensors}.
   *
   * <p>Kept here until {@code io.kubetune.contract.AdapterDigest} reaches this branch; the
   * definition is the same.
   */
  public static String digest(Path dir) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
    byte[] buffer = new byte[1 << 16];
    for (String name : List.of(CONFIG_FILE, WEIGHTS_FILE)) {
      try (InputStream in = Files.newInputStream(dir.resolve(name))) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          sha.update(buffer, 0, n);
        }
      }
    }
    return "sha256:" + HexFormat.of().formatHex(sha.digest());
  }

  private static void require(Path file, boolean ok, String problem) throws IOException {
    if (!ok) {
      throw new IOException(file + ": " + problem);
    }
  }
}
