package io.kubetune.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubetune.contract.AdapterChecks.Reasons;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterChecksTest {

  private static final Set<String> LLAMA_MODULES =
      Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  @TempDir Path root;

  private final AdapterChecks checks = new AdapterChecks(16, LLAMA_MODULES);

  /** A valid PEFT config as our trainer writes it; tests override single fields. */
  private static Map<String, String> config() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("peft_type", "\"LORA\"");
    c.put("task_type", "\"CAUSAL_LM\"");
    c.put("r", "8");
    c.put("lora_alpha", "16");
    c.put("lora_dropout", "0.05");
    c.put("target_modules", "[\"q_proj\", \"v_proj\"]");
    c.put("bias", "\"none\"");
    c.put("use_rslora", "false");
    c.put("use_dora", "false");
    c.put("modules_to_save", "null");
    c.put("base_model_name_or_path", "\"tiny-llama\"");
    return c;
  }

  private Path adapter(String name, Map<String, String> config) throws IOException {
    Path dir = Files.createDirectories(root.resolve(name));
    String json =
        config.entrySet().stream()
            .map(e -> "\"" + e.getKey() + "\": " + e.getValue())
            .collect(Collectors.joining(", ", "{", "}"));
    Files.writeString(dir.resolve("adapter_config.json"), json);
    Files.write(dir.resolve("adapter_model.safetensors"), new byte[] {8, 0, 0, 0, 0, 0, 0, 0});
    return dir;
  }

  private Path adapterWith(String field, String value) throws IOException {
    Map<String, String> c = config();
    c.put(field, value);
    return adapter(field, c);
  }

  private void assertRefused(AdapterCheckResult result, String reason, String hint) {
    assertFalse(result.ok(), "should be refused: " + result);
    assertEquals(reason, result.reason(), result.message());
    assertTrue(result.message().contains(hint), result.message());
  }

  @Test
  void acceptsAValidAdapterAndReportsItsDigest() throws IOException {
    Path dir = adapter("ok", config());
    AdapterCheckResult result = checks.check(dir, AdapterDigest.of(dir));
    assertTrue(result.ok(), result.message());
    assertNull(result.reason());
    assertEquals(AdapterDigest.of(dir), result.digest());
  }

  @Test
  void refusesEachUnservableConfiguration() throws IOException {
    assertRefused(
        checks.check(adapterWith("peft_type", "\"IA3\""), null), Reasons.NOT_LORA, "lora or qlora");
    assertRefused(
        checks.check(adapterWith("task_type", "\"SEQ_CLS\""), null),
        Reasons.WRONG_TASK_TYPE,
        "CAUSAL_LM");
    assertRefused(
        checks.check(adapterWith("r", "32"), null),
        Reasons.RANK_TOO_HIGH,
        "raise spec.lora.maxLoraRank to at least 32");
    assertRefused(
        checks.check(adapterWith("r", "\"eight\""), null), Reasons.CONFIG_INVALID, "r (LoRA rank)");
    assertRefused(
        checks.check(adapterWith("bias", "\"lora_only\""), null),
        Reasons.BIAS_NOT_SUPPORTED,
        "bias: none");
    assertRefused(
        checks.check(adapterWith("modules_to_save", "[\"lm_head\"]"), null),
        Reasons.MODULES_TO_SAVE_NOT_SUPPORTED,
        "without modules_to_save");
    assertRefused(
        checks.check(adapterWith("use_dora", "true"), null),
        Reasons.DORA_NOT_SUPPORTED,
        "use_dora: false");
    assertRefused(
        checks.check(adapterWith("target_modules", "[\"q_proj\", \"c_attn\"]"), null),
        Reasons.UNSUPPORTED_TARGET_MODULES,
        "[c_attn]");
    assertRefused(
        checks.check(adapterWith("target_modules", "\"all-linear\""), null),
        Reasons.UNSUPPORTED_TARGET_MODULES,
        "list the modules explicitly");
  }

  @Test
  void emptyModulesToSaveIsAccepted() throws IOException {
    assertTrue(checks.check(adapterWith("modules_to_save", "[]"), null).ok());
  }

  @Test
  void refusesPythonCodeAnywhereInTheFolder() throws IOException {
    Path modelPy = adapter("modelpy", config());
    Files.writeString(modelPy.resolve("model.py"), "import os\nos.system('id')\n");
    assertRefused(checks.check(modelPy, null), Reasons.CODE_FOUND, "DJL Serving would execute");

    Path nested = adapter("nested", config());
    Files.createDirectories(nested.resolve("code"));
    Files.writeString(nested.resolve("code/handler.PY"), "");
    assertRefused(checks.check(nested, null), Reasons.CODE_FOUND, "code/handler.PY");
  }

  @Test
  void refusesMissingOrBrokenFiles() throws IOException {
    assertRefused(
        checks.check(root.resolve("absent"), null), Reasons.FOLDER_MISSING, "does not exist");

    Path noConfig = Files.createDirectories(root.resolve("noconfig"));
    assertRefused(checks.check(noConfig, null), Reasons.CONFIG_MISSING, "adapter_config.json");

    Path broken = adapter("broken", config());
    Files.writeString(broken.resolve("adapter_config.json"), "{\"r\": 8,");
    assertRefused(checks.check(broken, null), Reasons.CONFIG_INVALID, "not valid JSON");

    Path array = adapter("array", config());
    Files.writeString(array.resolve("adapter_config.json"), "[1]");
    assertRefused(checks.check(array, null), Reasons.CONFIG_INVALID, "JSON object");

    Path noWeights = adapter("noweights", config());
    Files.delete(noWeights.resolve("adapter_model.safetensors"));
    assertRefused(checks.check(noWeights, null), Reasons.WEIGHTS_MISSING, "re-export");

    Path pickle = adapter("pickle", config());
    Files.delete(pickle.resolve("adapter_model.safetensors"));
    Files.write(pickle.resolve("adapter_model.bin"), new byte[] {1});
    assertRefused(checks.check(pickle, null), Reasons.PICKLE_WEIGHTS, "safetensors");
  }

  @Test
  void refusesADigestMismatch() throws IOException {
    Path dir = adapter("changed", config());
    String recorded = AdapterDigest.of(dir);
    Files.write(dir.resolve("adapter_model.safetensors"), new byte[] {9});
    AdapterCheckResult result = checks.check(dir, recorded);
    assertRefused(result, Reasons.DIGEST_MISMATCH, recorded);
    assertEquals(AdapterDigest.of(dir), result.digest());
  }
}
