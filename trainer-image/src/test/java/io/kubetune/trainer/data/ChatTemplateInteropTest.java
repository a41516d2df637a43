package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our chat rendering, token ids and label masks against HF transformers' {@code
 * apply_chat_template} on tokenizers trained by the {@code tokenizers} library, for a ChatML and a
 * Llama-3 style template; instruction and text ids against {@code tokenizer(...)}.
 */
class ChatTemplateInteropTest {
  /** ChatML with Qwen's default system prompt (uses loop.first). */
  static final String CHATML =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
          + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  /** The same ChatML output with assistant text marked for return_assistant_tokens_mask. */
  static final String CHATML_MARKED =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
          + "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\\n' }}"
          + "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
          + "{% else %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
          + " + '<|im_end|>' + '\\n'}}{% endif %}"
          + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  /** Llama-3 style: bos_token, {% set %}, namespace, loop.index0, raise_exception, trim. */
  static final String LLAMA3 =
      """
      {{- bos_token }}
      {%- if messages[0]['role'] == 'system' %}
          {%- set system_message = messages[0]['content'] | trim %}
          {%- set loop_messages = messages[1:] %}
      {%- else %}
          {%- set system_message = "" %}
          {%- set loop_messages = messages %}
      {%- endif %}
      {%- set ns = namespace(turns=0) %}
      {{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}
      {{- 'Cutting Knowledge Date: December 2023\\n\\n' }}
      {{- system_message + '<|eot_id|>' }}
      {%- for message in loop_messages %}
          {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
              {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
          {%- endif %}
          {%- set ns.turns = ns.turns + 1 %}
          {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}
          %CONTENT%
      {%- endfor %}
      {%- if add_generation_prompt %}
          {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
      {%- endif %}
      """;

  static final String LLAMA3_PLAIN =
      LLAMA3.replace("%CONTENT%", "{{- message['content'] | trim + '<|eot_id|>' }}");

  static final String LLAMA3_MARKED =
      LLAMA3.replace(
          "%CONTENT%",
          "{%- if message['role'] == 'assistant' %}{% generation %}"
              + "{{- message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}"
              + "{%- else %}{{- message['content'] | trim + '<|eot_id|>' }}{%- endif %}");

  /**
   * Llama-2 chat (HF's template): system prompt folded into the first user turn, bos_token per
   * turn, .strip(), eos_token after each answer; ignores add_generation_prompt.
   */
  static final String LLAMA2 =
      "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
          + "{% set system_message = messages[0]['content'] %}{% else %}"
          + "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
          + "{% for message in loop_messages %}"
          + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
          + "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
          + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
          + "{% else %}{% set content = message['content'] %}{% endif %}"
          + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
          + "{% elif message['role'] == 'assistant' %}%ANSWER%{% endif %}{% endfor %}";

  static final String LLAMA2_PLAIN =
      LLAMA2.replace("%ANSWER%", "{{ ' '  + content.strip() + ' ' + eos_token }}");

  static final String LLAMA2_MARKED =
      LLAMA2.replace(
          "%ANSWER%",
          "{% generation %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endgeneration %}");

  /** Jinja features real templates use, for rendering comparison only. */
  static final String FEATURES =
      """
      {%- macro fmt(m) -%}{{ m['role'].title() }}: {{ m['content'].strip() }}{%- endmacro -%}
      {%- set ns = namespace(sys=none, n=0) -%}
      {%- for m in messages -%}
      {%- if m['role'] == 'system' -%}{%- set ns.sys = m['content'] -%}{%- endif -%}
      {%- if m.content.startswith('Hi') or m['content'].endswith('?') -%}{%- set ns.n = ns.n + 1 -%}{%- endif -%}
      {%- endfor -%}
      {%- if ns.sys is not none %}[SYS {{ ns.sys | length }} {{ ns.sys.upper() }}]{% endif %}
      {%- for m in messages %}
      {{ loop.index }}/{{ messages | length }} {{ fmt(m) }}{% if not loop.last %} |{% endif %}
      {%- endfor %}
      {{ messages[-1] | tojson }} {{ messages | tojson(indent=2) }} {{ messages[0] }} {{ ['a', "b"] }} {{ true }} {{ messages | length > 2 }}
      {{ messages[0]['content'].split() | join(',') }} {{ ns.n ~ 'x' }} {{ messages[0]['content'].replace('a', 'A') }}
      {%- for m in messages if m['role'] != 'system' %}{{ loop.index }}{{ m.role }}{% if loop.last %}!{% endif %}{% endfor %}
      {%- for m in messages if m['role'] == 'tool' %}T{% else %}[no tools]{% endfor %}{% for m in messages %}{{ m.role[0:1] }}{% else %}-{% endfor %}
      {%- if tools is not none %}TOOLS{% endif %}{% if documents is defined and documents %}DOCS{% endif %}
      {%- if add_generation_prompt %} >>{{ eos_token }}{% endif %}
      """;

  /** Filters, tests, loop controls and expressions, one construct per line; rendering only. */
  static final String CONSTRUCTS =
      """
      {{ messages[0].content|replace('S', 'Z') }}
      {{ messages|length|string }}{{ '3'|int + 1 }}{{ missing|default('dflt') }}
      {{ (messages|first).role }}{{ (messages|last).role }}
      {% for m in messages %}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{% endfor %}
      {% for m in messages %}{% if m.role == 'assistant' %}{% break %}{% endif %}{{ m.role }}{% endfor %}
      {% for m in messages %}{% if m.role == 'user' %}{% continue %}{% endif %}{{ m.role }}{% endfor %}
      {% set ns = namespace(s='') %}{% for m in messages %}{% set ns.s = ns.s ~ m.role[0:1] %}{% endfor %}{{ ns.s }}
      {{ 'hello world'|capitalize }}{{ 'Hi'|upper }}{{ 'Hi'|lower }}{{ 'hello world'|title }}
      {% set d = {'a': 1, 'b': 'x'} %}{{ d.a }}{{ d['b'] }}{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}
      {{ (messages|selectattr('role', 'equalto', 'user')|list|last).content }}
      {% macro f(a, b='B') %}{{ a }}-{{ b }}{% endmacro %}{{ f('x') }}{{ f('y', b='z') }}
      {% if messages[0].role == 'x' %}1{% elif messages[0].role == 'system' %}2{% else %}3{% endif %}
      {{ messages[1:]|map(attribute='content')|join('|') }}
      {%- for m in messages -%}{{ m.content ~ '\\n' }}{%- endfor -%}
      {{ messages[0]['content'] + ' ' + messages[1]['content'] }}
      {{ 'a' if messages|length > 3 else 'b' }}
      {{ messages|map(attribute='role')|unique|list|length }}
      {%- set system = messages[0].content if messages[0].role == 'system' else '' -%}[{{ system }}]
      {{ "double \\"quoted\\"" }}{{ 'it\\'s' }}
      {{ messages|rejectattr('role', 'equalto', 'system')|list|length }}{{ messages|selectattr('role', 'in', ['user', 'system'])|list|length }}
      {{ 1 < 2 and 3 > 2 or false }}{{ not (1 == 1) }}
      {{ messages[0].content.strip()|length }}{{ '  x  '.lstrip() }}|{{ '  x  '.rstrip() }}|
      {{ '{:}'.format(3) if false else 'nofmt' }}
      {{ messages|tojson }}
      {{ 3.0 }}{{ 1e3 }}{{ 2 ** 3 }}{{ -1 }}{{ 0.1 + 0.2 }}
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;

  static List<List<Map<String, Object>>> conversations() {
    List<List<Map<String, Object>>> all = new ArrayList<>();
    all.add(List.of(msg("user", "Hi! What is the capital of France?"), msg("assistant", "Paris.")));
    all.add(
        List.of(
            msg("system", "You are a helpful assistant. Answer briefly."),
            msg("user", "Translate hello into German."),
            msg("assistant", "Hallo!")));
    all.add(
        List.of(
            msg("system", "  Be polite.  "),
            msg("user", "What is Kubernetes?"),
            msg("assistant", "It schedules pods onto nodes."),
            msg("user", "And an operator?"),
            msg("assistant", "  It reconciles resources.\n")));
    all.add(
        List.of(
            msg("user", "hello"),
            msg("assistant", "Hello! How can I help?"),
            msg("user", "Say {{ not_a_variable }} and \"quote\" é à 😀 verbatim.")));
    all.add(
        List.of(
            msg("user", "Numbers: 0123456789 ü ß ñ"),
            msg("assistant", "Fine-tuning with LoRA 😀\n\ntrains adapters."),
            msg("user", "thanks"),
            msg("assistant", "You're welcome.")));
    return all;
  }

  static Map<String, Object> msg(String role, String content) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }

  static Path chatmlDir;
  static Path llamaDir;
  static Path llama2Dir;

  /** Reference answers by model folder, computed in one Python run (imports dominate). */
  static final Map<Path, JsonNode> REFERENCE = new LinkedHashMap<>();

  @BeforeAll
  static void tokenizersAndReference() throws Exception {
    chatmlDir = Files.createDirectories(tmp.resolve("chatml"));
    llamaDir = Files.createDirectories(tmp.resolve("llama3"));
    llama2Dir = Files.createDirectories(tmp.resolve("llama2"));
    DataPython.run(
        "data_make_tokenizer.py",
        chatmlDir.toString(),
        "-",
        llamaDir.toString(),
        "<|begin_of_text|>",
        llama2Dir.toString(),
        "<s>");
    writeConfig(chatmlDir, CHATML, null, "<|im_end|>", null);
    // add_bos_token/add_eos_token contradict tokenizer.json on purpose: transformers 5 ignores
    // them, and so must we.
    writeConfig(llamaDir, LLAMA3_PLAIN, "<|begin_of_text|>", "<|eot_id|>", false);
    writeConfig(llama2Dir, LLAMA2_PLAIN, "<s>", "</s>", null);
    Map<Path, String> marked =
        Map.of(chatmlDir, CHATML_MARKED, llamaDir, LLAMA3_MARKED, llama2Dir, LLAMA2_MARKED);
    List<String> args = new ArrayList<>();
    Map<Path, Path> responses = new LinkedHashMap<>();
    for (Map.Entry<Path, String> e : marked.entrySet()) {
      Path in = Files.createTempFile(tmp, "req", ".json");
      Path out = Files.createTempFile(tmp, "res", ".json");
      JSON.writeValue(
          in.toFile(), request(e.getKey(), e.getValue(), List.of(FEATURES, CONSTRUCTS)));
      args.add(in.toString());
      args.add(out.toString());
      responses.put(e.getKey(), out);
    }
    DataPython.run("data_chat_reference.py", args.toArray(String[]::new));
    for (Map.Entry<Path, Path> e : responses.entrySet()) {
      REFERENCE.put(e.getKey(), JSON.readTree(e.getValue().toFile()));
    }
  }

  static void writeConfig(Path dir, String template, String bos, String eos, Boolean addBos)
      throws Exception {
    ObjectNode config = JSON.createObjectNode();
    config.put("tokenizer_class", "PreTrainedTokenizerFast");
    config.put("chat_template", template);
    config.put("bos_token", bos);
    config.put("eos_token", eos);
    if (addBos != null) {
      config.put("add_bos_token", addBos);
      config.put("add_eos_token", !addBos);
    }
    JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
  }

  static ObjectNode request(Path model, String marked, List<String> templates) {
    ObjectNode req = JSON.createObjectNode();
    req.put("model_dir", model.toString());
    req.set("conversations", JSON.valueToTree(conversations()));
    req.put("marked_template", marked);
    req.set("templates", JSON.valueToTree(templates));
    req.set(
        "instructions",
        JSON.valueToTree(
            List.of(
                Map.of("prompt", "Translate hello into German: ", "completion", "Hallo"),
                Map.of("prompt", "Q: capital of France?\nA:", "completion", " Paris."),
                Map.of("prompt", "emoji 😀 then", "completion", " é à ü done"))));
    req.set(
        "texts",
        JSON.valueToTree(List.of("Kubernetes schedules pods.", "ü 😀 ß\nnew line  spaces ")));
    return req;
  }

  @Test
  void chatmlTemplateMatchesTransformers() throws Exception {
    check(chatmlDir, CHATML_MARKED);
  }

  @Test
  void llama3TemplateMatchesTransformers() throws Exception {
    check(llamaDir, LLAMA3_MARKED);
  }

  @Test
  void llama2TemplateMatchesTransformers() throws Exception {
    check(llama2Dir, LLAMA2_MARKED);
  }

  private void check(Path model, String marked) throws Exception {
    JsonNode ref = REFERENCE.get(model);
    List<List<Map<String, Object>>> convs = conversations();
    try (ModelTokenizer tokenizer = ModelTokenizer.load(model)) {
      ChatTemplate template = ChatTemplate.of(tokenizer.chatTemplate(), tokenizer.specialTokens());
      ChatTemplate markedTemplate = ChatTemplate.of(marked, tokenizer.specialTokens());
      ChatTemplate features = ChatTemplate.of(FEATURES, tokenizer.specialTokens());
      ChatTemplate constructs = ChatTemplate.of(CONSTRUCTS, tokenizer.specialTokens());
      ExampleEncoder encoder = new ExampleEncoder(tokenizer, template);
      int featureIndex = 0;
      for (int c = 0; c < convs.size(); c++) {
        List<Map<String, Object>> conv = convs.get(c);
        JsonNode expected = ref.get("chats").get(c);
        for (boolean gen : new boolean[] {false, true}) {
          String key = gen ? "gen" : "plain";
          String text = template.render(conv, gen);
          String where = "conversation " + c + " add_generation_prompt=" + gen;
          assertEquals(expected.get(key + "_text").asText(), text, where);
          assertEquals(text, markedTemplate.render(conv, gen), "generation tags change nothing");
          assertArrayEquals(ints(expected.get(key + "_ids")), tokenizer.encode(text).ids(), where);
          assertEquals(
              ref.get("templates").get(0).get(featureIndex++).asText(),
              features.render(conv, gen),
              "features template, " + where);
          assertEquals(
              ref.get("templates").get(1).get(featureIndex - 1).asText(),
              constructs.render(conv, gen),
              "constructs template, " + where);
        }
        if (expected.has("mask")) {
          TokenizedExample ours =
              encoder.encode(
                  new LineParser(null).parse(JSON.writeValueAsString(Map.of("messages", conv))));
          assertArrayEquals(ints(expected.get("mask_ids")), ours.inputIds(), "conversation " + c);
          int[] mask = ints(expected.get("mask"));
          int[] ourMask = new int[ours.length()];
          for (int i = 0; i < ourMask.length; i++) {
            ourMask[i] = ours.labels()[i] == TokenizedExample.IGNORE ? 0 : 1;
            if (ourMask[i] == 1) {
              assertEquals(ours.inputIds()[i], ours.labels()[i], "labels are the unshifted ids");
            }
          }
          assertArrayEquals(mask, ourMask, "assistant mask of conversation " + c);
          assertTrue(ours.labeledTokens() > 0);
        }
      }
      assertInstructionsAndTexts(ref, tokenizer);
    }
  }

  private void assertInstructionsAndTexts(JsonNode ref, ModelTokenizer tokenizer) throws Exception {
    ExampleEncoder encoder = new ExampleEncoder(tokenizer, ChatTemplate.of(null, Map.of()));
    List<Map<String, String>> pairs =
        JSON.convertValue(
            JSON.readTree(
                "[{\"prompt\":\"Translate hello into German: \",\"completion\":\"Hallo\"},"
                    + "{\"prompt\":\"Q: capital of France?\\nA:\",\"completion\":\" Paris.\"},"
                    + "{\"prompt\":\"emoji 😀 then\",\"completion\":\" é à ü done\"}]"),
            new TypeReference<>() {});
    for (int i = 0; i < pairs.size(); i++) {
      TokenizedExample ours =
          encoder.encode(
              Example.instruction(pairs.get(i).get("prompt"), pairs.get(i).get("completion")));
      JsonNode expected = ref.get("instructions").get(i);
      assertArrayEquals(ints(expected.get("ids")), ours.inputIds(), "instruction " + i);
      int[] mask = ints(expected.get("mask"));
      for (int t = 0; t < mask.length; t++) {
        assertEquals(
            mask[t] == 1,
            ours.labels()[t] != TokenizedExample.IGNORE,
            "instruction " + i + " token " + t);
      }
    }
    String[] texts = {"Kubernetes schedules pods.", "ü 😀 ß\nnew line  spaces "};
    for (int i = 0; i < texts.length; i++) {
      TokenizedExample ours = encoder.encode(Example.text(texts[i]));
      assertArrayEquals(ints(ref.get("texts").get(i).get("ids")), ours.inputIds(), "text " + i);
      assertArrayEquals(ours.inputIds(), ours.labels(), "text trains on every token");
    }
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
