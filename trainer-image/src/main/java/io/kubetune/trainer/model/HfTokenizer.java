package io.kubetune.trainer.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A model's tokenizer: {@code tokenizer.json} through DJL's Hugging Face tokenizers (the same Rust
 * library transformers uses, so ids match) plus the special tokens and chat template of {@code
 * tokenizer_config.json}.
 *
 * <p>Loading reads local files only; DJL's tracking call is disabled by {@link Offline#enforce}.
 */
public final class HfTokenizer implements AutoCloseable {

  /** File name of the fast tokenizer definition. */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** File name of the tokenizer settings (special tokens, chat template). */
  public static final String CONFIG_FILE = "tokenizer_config.json";

  private final HuggingFaceTokenizer tokenizer;
  private final JsonNode config;
  private final Map<String, Integer> addedTokens;
  private final String chatTemplate;

  private HfTokenizer(
      HuggingFaceTokenizer tokenizer,
      JsonNode config,
      Map<String, Integer> addedTokens,
      String chatTemplate) {
    this.tokenizer = tokenizer;
    this.config = config;
    this.addedTokens = addedTokens;
    this.chatTemplate = chatTemplate;
  }

  /**
   * Loads {@code tokenizer.json} (required) and {@code tokenizer_config.json} (optional) from a
   * model folder.
   *
   * @throws ModelConfigException when a file is missing or invalid; the message names it
   */
  public static HfTokenizer load(Path folder) throws ModelConfigException {
    Offline.enforce();
    Path file = folder.resolve(TOKENIZER_FILE);
    if (!Files.isRegularFile(file)) {
      throw new ModelConfigException(
          file + ": not found; the model folder needs a fast tokenizer (tokenizer.json)");
    }
    ObjectMapper json = new ObjectMapper();
    Map<String, Integer> added = new HashMap<>();
    try {
      JsonNode definition = json.readTree(file.toFile());
      for (JsonNode t : definition.path("added_tokens")) {
        added.put(t.path("content").asText(), t.path("id").asInt());
      }
    } catch (IOException e) {
      throw new ModelConfigException(file + ": not valid JSON: " + e.getMessage(), e);
    }
    JsonNode config = JsonNodeFactory.instance.objectNode();
    Path configFile = folder.resolve(CONFIG_FILE);
    if (Files.isRegularFile(configFile)) {
      try {
        config = json.readTree(configFile.toFile());
      } catch (IOException e) {
        throw new ModelConfigException(configFile + ": not valid JSON: " + e.getMessage(), e);
      }
    }
    String template = readChatTemplate(folder, config, configFile);
    Map<String, String> options = new HashMap<>();
    // Truncation and padding are the data pipeline's decisions, not the tokenizer's defaults.
    options.put("addSpecialTokens", "true");
    options.put("truncation", "false");
    options.put("padding", "false");
    try {
      HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(file, options);
      return new HfTokenizer(tok, config, added, template);
    } catch (IOException | RuntimeException e) {
      throw new ModelConfigException(file + ": cannot load tokenizer: " + e.getMessage(), e);
    }
  }

  private static String readChatTemplate(Path folder, JsonNode config, Path configFile)
      throws ModelConfigException {
    JsonNode t = config.get("chat_template");
    if (t != null && t.isTextual()) {
      return t.asText();
    }
    if (t != null && t.isArray()) {
      // Named templates: transformers uses the one called "default".
      for (JsonNode named : t) {
        if ("default".equals(named.path("name").asText())) {
          return named.path("template").asText();
        }
      }
      throw new ModelConfigException(
          configFile + ": field 'chat_template' lists templates but none is named 'default'");
    }
    Path jinja = folder.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinja)) {
      try {
        return Files.readString(jinja);
      } catch (IOException e) {
        throw new ModelConfigException(jinja + ": cannot read: " + e.getMessage(), e);
      }
    }
    return null;
  }

  /** Token ids of {@code text} with special tokens as the tokenizer's post-processor adds them. */
  public int[] encode(String text) {
    return encode(text, true);
  }

  /**
   * Token ids of {@code text}.
   *
   * @param addSpecialTokens whether the post-processor adds BOS/EOS (as transformers' {@code
   *     add_special_tokens})
   */
  public int[] encode(String text, boolean addSpecialTokens) {
    Encoding e = tokenizer.encode(text, addSpecialTokens, false);
    long[] ids = e.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Text of token ids, optionally without special tokens. */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, skipSpecialTokens);
  }

  /** The id of a single token (special or plain), if the vocabulary has it. */
  public Optional<Integer> tokenId(String token) {
    Integer id = addedTokens.get(token);
    if (id != null) {
      return Optional.of(id);
    }
    int[] ids = encode(token, false);
    return ids.length == 1 && token.equals(tokenizer.decode(new long[] {ids[0]}, false))
        ? Optional.of(ids[0])
        : Optional.empty();
  }

  /** The BOS token text from {@code tokenizer_config.json}, if any. */
  public Optional<String> bosToken() {
    return special("bos_token");
  }

  /** The EOS token text from {@code tokenizer_config.json}, if any. */
  public Optional<String> eosToken() {
    return special("eos_token");
  }

  /** The padding token text from {@code tokenizer_config.json}, if any. */
  public Optional<String> padToken() {
    return special("pad_token");
  }

  /** The BOS token id, if configured. */
  public Optional<Integer> bosTokenId() {
    return bosToken().flatMap(this::tokenId);
  }

  /** The EOS token id, if configured. */
  public Optional<Integer> eosTokenId() {
    return eosToken().flatMap(this::tokenId);
  }

  /** The padding token id, if configured. */
  public Optional<Integer> padTokenId() {
    return padToken().flatMap(this::tokenId);
  }

  /**
   * The Jinja chat template ({@code chat_template} of {@code tokenizer_config.json}, or {@code
   * chat_template.jinja}), if the model has one.
   */
  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  /** The raw {@code tokenizer_config.json} (an empty object when absent). */
  public JsonNode tokenizerConfig() {
    return config;
  }

  private Optional<String> special(String field) {
    JsonNode n = config.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    // Saved either as a plain string or as a serialized AddedToken {"content": ...}.
    return Optional.of(n.isTextual() ? n.asText() : n.path("content").asText());
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
