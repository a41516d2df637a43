package io.kubetune.trainer.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small Hugging Face tokenizer folders for tests: a byte-level BPE whose vocabulary is the
 * 256 byte symbols plus a few merges and the ChatML/Llama special tokens, so every text tokenizes
 * and ids are easy to reason about. No Python needed.
 */
final class TinyTokenizers {
  static final List<String> SPECIALS =
      List.of(
          "<unk>",
          "<s>",
          "</s>",
          "<|im_start|>",
          "<|im_end|>",
          "<|begin_of_text|>",
          "<|end_of_text|>",
          "<|start_header_id|>",
          "<|end_header_id|>",
          "<|eot_id|>");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private String bosPostProcessor;
  private final ObjectNode config = JSON.createObjectNode();

  private TinyTokenizers(Path dir) {
    this.dir = dir;
  }

  /** A tokenizer folder to be written into {@code dir}. */
  static TinyTokenizers in(Path dir) {
    return new TinyTokenizers(dir);
  }

  /** The tokenizer.json post-processor prepends this token when special tokens are added. */
  TinyTokenizers bosPostProcessor(String token) {
    this.bosPostProcessor = token;
    return this;
  }

  /** Sets a tokenizer_config.json field. */
  TinyTokenizers config(String key, Object value) {
    config.set(key, JSON.valueToTree(value));
    return this;
  }

  /** Writes the folder and returns it. */
  Path write() throws IOException {
    Files.createDirectories(dir);
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < SPECIALS.size(); i++) {
      ObjectNode t = added.addObject();
      t.put("id", i);
      t.put("content", SPECIALS.get(i));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "ByteLevel");
    pre.put("add_prefix_space", false);
    pre.put("trim_offsets", true);
    pre.put("use_regex", true);
    if (bosPostProcessor != null) {
      ObjectNode post = root.putObject("post_processor");
      post.put("type", "TemplateProcessing");
      ArrayNode single = post.putArray("single");
      single.addObject().putObject("SpecialToken").put("id", bosPostProcessor).put("type_id", 0);
      single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      ArrayNode pair = post.putArray("pair");
      pair.addObject().putObject("SpecialToken").put("id", bosPostProcessor).put("type_id", 0);
      pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
      ObjectNode special = post.putObject("special_tokens").putObject(bosPostProcessor);
      special.put("id", bosPostProcessor);
      special.putArray("ids").add(SPECIALS.indexOf(bosPostProcessor));
      special.putArray("tokens").add(bosPostProcessor);
    } else {
      root.putNull("post_processor");
    }
    ObjectNode decoder = root.putObject("decoder");
    decoder.put("type", "ByteLevel");
    decoder.put("add_prefix_space", true);
    decoder.put("trim_offsets", true);
    decoder.put("use_regex", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < SPECIALS.size(); i++) {
      vocab.put(SPECIALS.get(i), i);
    }
    List<String> symbols = byteSymbols();
    for (String s : symbols) {
      vocab.put(s, vocab.size());
    }
    ArrayNode merges = model.putArray("merges");
    // A few merges so that some tokens span several characters (offsets then matter).
    String[][] pairs = {
      {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "t"}, {"Ġt", "h"}
    };
    for (String[] p : pairs) {
      merges.addArray().add(p[0]).add(p[1]);
      vocab.put(p[0] + p[1], vocab.size());
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), root);
    JSON.writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
    return dir;
  }

  /** GPT-2's byte-to-unicode table: the 256 symbols of a byte-level vocabulary, in byte order. */
  static List<String> byteSymbols() {
    List<Integer> printable = new ArrayList<>();
    for (int b = '!'; b <= '~'; b++) {
      printable.add(b);
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      printable.add(b);
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      printable.add(b);
    }
    String[] table = new String[256];
    int extra = 0;
    for (int b = 0; b < 256; b++) {
      int cp = printable.contains(b) ? b : 256 + extra++;
      table[b] = new String(Character.toChars(cp));
    }
    return List.of(table);
  }

  /** The id of a single byte's token. */
  static int byteId(int b) {
    return SPECIALS.size() + b;
  }

  /** The id of a special token. */
  static int specialId(String token) {
    return SPECIALS.indexOf(token);
  }
}
