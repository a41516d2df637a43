package io.kubetune.operator.testing;

import io.kubetune.contract.AdapterDigest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** PEFT LoRA adapter folders on a test artifact store. */
public final class PeftAdapters {
  private PeftAdapters() {}

  /**
   * Writes a valid PEFT LoRA adapter of rank {@code r} (alpha 2r, q_proj and v_proj) to {@code
   * artifacts}/adapters/{folder}, its config with {@code overrides} (JSON values) and weights that
   * differ by {@code seed}; returns its digest.
   */
  public static String write(
      Path artifacts, String folder, int r, String seed, Map<String, String> overrides) {
    try {
      Path dir = Files.createDirectories(artifacts.resolve("adapters").resolve(folder));
      Map<String, String> c = new LinkedHashMap<>();
      c.put("peft_type", "\"LORA\"");
      c.put("task_type", "\"CAUSAL_LM\"");
      c.put("r", Integer.toString(r));
      c.put("lora_alpha", Integer.toString(2 * r));
      c.put("lora_dropout", "0.05");
      c.put("target_modules", "[\"q_proj\", \"v_proj\"]");
      c.put("bias", "\"none\"");
      c.put("use_rslora", "false");
      c.put("use_dora", "false");
      c.put("modules_to_save", "null");
      c.put("base_model_name_or_path", "\"tiny-llama\"");
      c.putAll(overrides);
      StringBuilder json = new StringBuilder("{");
      c.forEach(
          (k, v) ->
              json.append(json.length() > 1 ? ", " : "")
                  .append('"')
                  .append(k)
                  .append("\": ")
                  .append(v));
      json.append('}');
      Files.writeString(dir.resolve(AdapterDigest.CONFIG_FILE), json);
      byte[] weights = ("{}" + seed).getBytes(StandardCharsets.UTF_8);
      Files.write(dir.resolve(AdapterDigest.WEIGHTS_FILE), weights);
      return AdapterDigest.of(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
