package io.kubetune.trainer.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.safetensors.DType;
import io.kubetune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Writes seeded tiny random Llama model folders (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json) from Java, for tests that need a model but not the Python reference.
 *
 * <pre>{@code
 * Path dir = TinyModels.llama().layers(2).kvHeads(1).tied(true).seed(7).write(tmp.resolve("m"));
 * }</pre>
 *
 * <p>The tokenizer is a word-level one over {@link #WORDS} with ChatML markers; its vocabulary size
 * is the model's default {@code vocab_size}.
 */
public final class TinyModels {

  /** Special tokens, in id order: unknown, BOS, EOS, padding, ChatML start and end. */
  public static final List<String> SPECIAL =
      List.of("<unk>", "<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>");

  /** Id of {@code <s>}. */
  public static final int BOS = 1;

  /** Id of {@code </s>}. */
  public static final int EOS = 2;

  /** Id of {@code <pad>}. */
  public static final int PAD = 3;

  /** Plain words of the tokenizer, ids following {@link #SPECIAL}. */
  public static final List<String> WORDS =
      List.of(
          "system",
          "user",
          "assistant",
          "you",
          "are",
          "a",
          "helpful",
          "model",
          "what",
          "is",
          "the",
          "capital",
          "of",
          "france",
          "paris",
          "germany",
          "berlin",
          "hello",
          "world",
          "yes",
          "no",
          "one",
          "two",
          "three",
          "four",
          "five",
          "cat",
          "dog",
          "red",
          "blue",
          "green",
          "sky",
          "sea",
          "it",
          "and",
          "or",
          "not",
          "i",
          "we",
          "they",
          "like",
          "see",
          "big",
          "small",
          "good",
          "bad",
          "day",
          "night",
          "sun",
          "moon",
          "tell",
          "me",
          "about",
          ".",
          ",",
          "?",
          "!",
          ":");

  /** ChatML template, as used by many instruction-tuned models. */
  public static final String CHATML_TEMPLATE =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n'"
          + " + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private TinyModels() {}

  /** Size of the tokenizer's vocabulary. */
  public static int vocabSize() {
    return SPECIAL.size() + WORDS.size();
  }

  /** A builder for a tiny Llama with GQA (4 query heads, 2 kv heads), 2 layers, untied head. */
  public static Builder llama() {
    return new Builder();
  }

  /** Settings of a tiny model; defaults give a 2-layer GQA model with a 64-token vocabulary. */
  public static final class Builder {
    private int vocab = vocabSize();
    private int hidden = 32;
    private int intermediate = 64;
    private int layers = 2;
    private int heads = 4;
    private int kvHeads = 2;
    private boolean tied;
    private long seed = 42;
    private double ropeTheta = 10000;
    private boolean llama3Rope;
    private int maxPositions = 256;
    private float std = 0.15f;
    private DType dtype = DType.F32;

    private Builder() {}

    /** Vocabulary size (at least the tokenizer's). */
    public Builder vocab(int v) {
      this.vocab = v;
      return this;
    }

    /** Hidden width. */
    public Builder hidden(int h) {
      this.hidden = h;
      return this;
    }

    /** MLP width. */
    public Builder intermediate(int i) {
      this.intermediate = i;
      return this;
    }

    /** Decoder layers. */
    public Builder layers(int n) {
      this.layers = n;
      return this;
    }

    /** Query heads. */
    public Builder heads(int n) {
      this.heads = n;
      return this;
    }

    /** Key/value heads. */
    public Builder kvHeads(int n) {
      this.kvHeads = n;
      return this;
    }

    /** Whether lm_head reuses the embedding. */
    public Builder tied(boolean t) {
      this.tied = t;
      return this;
    }

    /** Seed of the random weights. */
    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    /** Standard deviation of the random projection and embedding weights. */
    public Builder std(float s) {
      this.std = s;
      return this;
    }

    /** Adds llama3 rope scaling (factor 8, original context 16) so every branch is used. */
    public Builder llama3Rope(boolean on) {
      this.llama3Rope = on;
      return this;
    }

    /** Storage dtype of the weights (F32, F16 or BF16). */
    public Builder dtype(DType d) {
      this.dtype = d;
      return this;
    }

    /** Writes the model folder and returns it. */
    public Path write(Path dir) throws IOException {
      Files.createDirectories(dir);
      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      int headDim = hidden / heads;
      ObjectNode c = json.createObjectNode();
      c.putArray("architectures").add("LlamaForCausalLM");
      c.put("model_type", "llama");
      c.put("vocab_size", vocab);
      c.put("hidden_size", hidden);
      c.put("intermediate_size", intermediate);
      c.put("num_hidden_layers", layers);
      c.put("num_attention_heads", heads);
      c.put("num_key_value_heads", kvHeads);
      c.put("head_dim", headDim);
      c.put("hidden_act", "silu");
      c.put("max_position_embeddings", maxPositions);
      c.put("rms_norm_eps", 1e-5);
      c.put("rope_theta", ropeTheta);
      if (llama3Rope) {
        ObjectNode r = c.putObject("rope_scaling");
        r.put("rope_type", "llama3");
        r.put("factor", 8.0);
        r.put("low_freq_factor", 1.0);
        r.put("high_freq_factor", 4.0);
        r.put("original_max_position_embeddings", 16);
      } else {
        c.putNull("rope_scaling");
      }
      c.put("tie_word_embeddings", tied);
      c.put("bos_token_id", BOS);
      c.put("eos_token_id", EOS);
      c.put("pad_token_id", PAD);
      c.put("attention_bias", false);
      c.put("mlp_bias", false);
      c.put(
          "torch_dtype",
          dtype == DType.F32 ? "float32" : dtype == DType.F16 ? "float16" : "bfloat16");
      json.writeValue(dir.resolve("config.json").toFile(), c);

      Random r = new Random(seed);
      SafetensorsWriter w = new SafetensorsWriter();
      w.add(
          "model.embed_tokens.weight",
          new long[] {vocab, hidden},
          normal(r, vocab * hidden),
          dtype);
      int q = heads * headDim;
      int kv = kvHeads * headDim;
      for (int i = 0; i < layers; i++) {
        String p = "model.layers." + i + ".";
        w.add(p + "input_layernorm.weight", new long[] {hidden}, ones(r, hidden), dtype);
        w.add(p + "post_attention_layernorm.weight", new long[] {hidden}, ones(r, hidden), dtype);
        w.add(p + "self_attn.q_proj.weight", new long[] {q, hidden}, normal(r, q * hidden), dtype);
        w.add(
            p + "self_attn.k_proj.weight", new long[] {kv, hidden}, normal(r, kv * hidden), dtype);
        w.add(
            p + "self_attn.v_proj.weight", new long[] {kv, hidden}, normal(r, kv * hidden), dtype);
        w.add(p + "self_attn.o_proj.weight", new long[] {hidden, q}, normal(r, hidden * q), dtype);
        int ff = intermediate;
        w.add(p + "mlp.gate_proj.weight", new long[] {ff, hidden}, normal(r, ff * hidden), dtype);
        w.add(p + "mlp.up_proj.weight", new long[] {ff, hidden}, normal(r, ff * hidden), dtype);
        w.add(p + "mlp.down_proj.weight", new long[] {hidden, ff}, normal(r, hidden * ff), dtype);
      }
      w.add("model.norm.weight", new long[] {hidden}, ones(r, hidden), dtype);
      if (!tied) {
        w.add("lm_head.weight", new long[] {vocab, hidden}, normal(r, vocab * hidden), dtype);
      }
      w.write(dir.resolve("model.safetensors"));
      writeTokenizer(dir);
      return dir;
    }

    private float[] normal(Random r, int n) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) r.nextGaussian() * std;
      }
      return v;
    }

    private static float[] ones(Random r, int n) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = 1f + (float) r.nextGaussian() * 0.1f;
      }
      return v;
    }
  }

  /**
   * Writes {@code tokenizer.json} (word level, whitespace pre-tokenizer, BOS added by the
   * post-processor) and {@code tokenizer_config.json} (special tokens, ChatML template) to {@code
   * dir}.
   */
  public static void writeTokenizer(Path dir) throws IOException {
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode t = json.createObjectNode();
    t.put("version", "1.0");
    t.putNull("truncation");
    t.putNull("padding");
    ArrayNode added = t.putArray("added_tokens");
    for (int i = 0; i < SPECIAL.size(); i++) {
      ObjectNode a = added.addObject();
      a.put("id", i);
      a.put("content", SPECIAL.get(i));
      a.put("single_word", false);
      a.put("lstrip", false);
      a.put("rstrip", false);
      a.put("normalized", false);
      a.put("special", true);
    }
    t.putNull("normalizer");
    t.putObject("pre_tokenizer").put("type", "Whitespace");
    ObjectNode post = t.putObject("post_processor");
    post.put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    ArrayNode pair = post.putArray("pair");
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    ObjectNode specials = post.putObject("special_tokens");
    ObjectNode bos = specials.putObject("<s>");
    bos.put("id", "<s>");
    bos.putArray("ids").add(BOS);
    bos.putArray("tokens").add("<s>");
    t.putNull("decoder");
    ObjectNode model = t.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < SPECIAL.size(); i++) {
      vocab.put(SPECIAL.get(i), i);
    }
    for (int i = 0; i < WORDS.size(); i++) {
      vocab.put(WORDS.get(i), SPECIAL.size() + i);
    }
    model.put("unk_token", "<unk>");
    json.writeValue(dir.resolve("tokenizer.json").toFile(), t);

    ObjectNode cfg = json.createObjectNode();
    cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
    cfg.put("bos_token", "<s>");
    cfg.put("eos_token", "</s>");
    cfg.put("pad_token", "<pad>");
    cfg.put("unk_token", "<unk>");
    cfg.put("model_max_length", 2048);
    cfg.put("clean_up_tokenization_spaces", false);
    cfg.put("chat_template", CHATML_TEMPLATE);
    json.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
  }
}
