package io.kubetune.trainer.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model's tokenizer: {@code tokenizer.json} through DJL's HF tokenizers (offline), plus what
 * {@code tokenizer_config.json} adds: special tokens and the chat template ({@code
 * chat_template.jinja} wins over the config's {@code chat_template}, as in transformers).
 *
 * <p>BOS/EOS around instruction and text examples come from {@code tokenizer.json}'s
 * post-processor. {@code add_bos_token}/{@code add_eos_token} in tokenizer_config.json are ignored
 * on purpose: transformers 5 drops them when a tokenizer.json exists ({@code from_pretrained} pops
 * them), and we must produce the reference's ids. Real Llama tokenizers keep both consistent.
 */
public final class ModelTokenizer implements AutoCloseable {
  private static final String[] SPECIAL_KEYS = {
    "bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"
  };

  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, String> specialTokens;
  private final String chatTemplate;
  private final int[] prefix;
  private final int[] suffix;
  private final int eosId;

  private ModelTokenizer(
      HuggingFaceTokenizer tokenizer,
      Map<String, String> specialTokens,
      String chatTemplate,
      int[] prefix,
      int[] suffix,
      int eosId) {
    this.tokenizer = tokenizer;
    this.specialTokens = specialTokens;
    this.chatTemplate = chatTemplate;
    this.prefix = prefix;
    this.suffix = suffix;
    this.eosId = eosId;
  }

  /**
   * Loads the tokenizer of a Hugging Face model folder.
   *
   * @throws IOException when {@code tokenizer.json} is missing or a file cannot be parsed; the
   *     message names the file
   */
  public static ModelTokenizer load(Path modelDir) throws IOException {
    Path json = modelDir.resolve("tokenizer.json");
    if (!Files.isRegularFile(json)) {
      throw new IOException("model folder " + modelDir + " has no tokenizer.json");
    }
    JsonNode config = readConfig(modelDir.resolve("tokenizer_config.json"));
    Map<String, String> special = new LinkedHashMap<>();
    for (String key : SPECIAL_KEYS) {
      String value = tokenText(config.get(key));
      if (value != null) {
        special.put(key, value);
      }
    }
    String template = chatTemplate(modelDir, config);
    HuggingFaceTokenizer tokenizer;
    try {
      // DJL truncates to 512 tokens and pads by default; the pipeline truncates itself, reporting
      // it.
      tokenizer =
          HuggingFaceTokenizer.newInstance(
              json, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"));
    } catch (RuntimeException e) {
      throw new IOException("cannot load " + json + ": " + e.getMessage(), e);
    }
    try {
      int eosId = idOf(tokenizer, special.get("eos_token"));
      // What the tokenizer.json post-processor adds around a text when special tokens are on.
      String probe = "a";
      long[] plain = tokenizer.encode(probe, false, false).getIds();
      long[] full = tokenizer.encode(probe, true, false).getIds();
      int[] prefix = new int[0];
      int[] suffix = new int[0];
      int at = indexOf(full, plain);
      if (at >= 0) {
        prefix = toInts(Arrays.copyOfRange(full, 0, at));
        suffix = toInts(Arrays.copyOfRange(full, at + plain.length, full.length));
      }
      return new ModelTokenizer(tokenizer, special, template, prefix, suffix, eosId);
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  private static JsonNode readConfig(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return new ObjectMapper().createObjectNode();
    }
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot parse " + file + ": " + e.getMessage(), e);
    }
  }

  private static String chatTemplate(Path modelDir, JsonNode config) throws IOException {
    Path jinja = modelDir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinja)) {
      return Files.readString(jinja);
    }
    JsonNode t = config.get("chat_template");
    if (t == null || t.isNull()) {
      return null;
    }
    if (t.isTextual()) {
      return t.asText();
    }
    // A list of named templates: training uses the default one, as apply_chat_template does.
    for (JsonNode named : t) {
      if ("default".equals(named.path("name").asText())) {
        return named.path("template").asText();
      }
    }
    return null;
  }

  private static String tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    JsonNode content = node.get("content");
    return content != null && content.isTextual() ? content.asText() : null;
  }

  private static int idOf(HuggingFaceTokenizer tokenizer, String token) {
    if (token == null) {
      return -1;
    }
    long[] ids = tokenizer.encode(token, false, false).getIds();
    return ids.length == 1 ? (int) ids[0] : -1;
  }

  private static int indexOf(long[] haystack, long[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /** Special tokens by their tokenizer_config.json name ({@code bos_token}, ...). */
  public Map<String, String> specialTokens() {
    return specialTokens;
  }

  /** The model's chat template, or null when it has none. */
  public String chatTemplate() {
    return chatTemplate;
  }

  /** The EOS token id, or -1 when the tokenizer defines none. */
  public int eosId() {
    return eosId;
  }

  /** Tokens the tokenizer puts before a text when special tokens are added (usually BOS). */
  int[] prefix() {
    return prefix.clone();
  }

  /** Tokens the tokenizer puts after a text when special tokens are added (EOS if configured). */
  int[] suffix() {
    return suffix.clone();
  }

  /**
   * Tokenizes text without adding special tokens (special tokens written in the text, such as a
   * template's {@code <|im_start|>}, are still recognized).
   */
  Tokens encode(String text) {
    Encoding e = tokenizer.encode(text, false, false);
    int[] ids = toInts(e.getIds());
    CharSpan[] spans = e.getCharTokenSpans();
    int[] start = new int[ids.length];
    int[] end = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      CharSpan s = spans[i];
      start[i] = s == null ? -1 : s.getStart();
      end[i] = s == null ? -1 : s.getEnd();
    }
    return new Tokens(ids, start, end);
  }

  /**
   * Token ids with each token's code-point span in the text (HF tokenizers count offsets in Unicode
   * code points, not UTF-16 units; -1 for tokens with no text).
   */
  record Tokens(int[] ids, int[] start, int[] end) {
    /** Whether token {@code i} overlaps the code-point range [from, to). */
    boolean overlaps(int i, int from, int to) {
      return start[i] >= 0 && start[i] < to && end[i] > from;
    }
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
