package io.kubetune.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Jinja semantics that HF templates depend on, and strict failure reporting. */
class ChatTemplateTest {
  private static final List<Map<String, Object>> CHAT =
      List.of(
          ChatTemplateInteropTest.msg("system", " Be brief. "),
          ChatTemplateInteropTest.msg("user", "Say {{ 7 * 7 }} please"),
          ChatTemplateInteropTest.msg("assistant", "OK"));

  private static String render(String template) throws ChatTemplateException {
    return ChatTemplate.of(template, Map.of("bos_token", "<s>", "eos_token", "</s>"))
        .render(CHAT, false);
  }

  @Test
  void defaultIsChatMl() throws Exception {
    String out = ChatTemplate.of(null, Map.of()).render(CHAT.subList(1, 2), true);
    assertEquals(
        "<|im_start|>user\nSay {{ 7 * 7 }} please<|im_end|>\n<|im_start|>assistant\n", out);
  }

  @Test
  void messageContentIsNeverInterpreted() throws Exception {
    assertEquals("Say {{ 7 * 7 }} please", render("{{ messages[1]['content'] }}"));
  }

  @Test
  void whitespaceControlMatchesJinja2() throws Exception {
    // Expected value from Jinja2 with trim_blocks and lstrip_blocks, as HF configures it.
    String t =
        "{% for m in messages %}\n    {%- if m.role == 'user' %}\n  [{{- m.role -}}  ]\n"
            + "    {% endif %}\n{% endfor %}\nend";
    assertEquals("  [user]\nend", render(t));
  }

  @Test
  void pythonStringMethodsAndFilters() throws Exception {
    assertEquals(
        "Be brief.|True|SYSTEM|System|be,brief.",
        render(
            "{{ messages[0].content.strip() }}|{{ messages[0].role.startswith(('x', 'sys')) }}|"
                + "{{ messages[0].role.upper() }}|{{ messages[0].role.title() }}|"
                + "{{ messages[0].content.strip().lower().split() | join(',') }}"));
    assertEquals("Be brief.", render("{{ messages[0].content | trim }}"));
    assertEquals(
        "{\"role\": \"assistant\", \"content\": \"OK\"}", render("{{ messages[2] | tojson }}"));
  }

  @Test
  void namespaceAndLoopVariables() throws Exception {
    String t =
        "{% set ns = namespace(last='') %}{% for m in messages %}"
            + "{% if loop.first %}F{% endif %}{{ loop.index0 }}{% if loop.last %}L{% endif %}"
            + "{% set ns.last = m.role %}{% endfor %}{{ ns.last }}{{ bos_token }}{{ undefined_thing }}";
    assertEquals("F012Lassistant<s>", render(t));
  }

  @Test
  void failuresNameTheTemplateLine() {
    String[][] cases = {
      {"a\nb\n{{ raise_exception('bad') }}", "3"},
      {"a\n{% if true %}\n{{ raise_exception('bad') }}{% endif %}", "3"},
      {
        "{% for m in messages %}\n{% if m.role == 'user' %}\n{{ raise_exception('bad') }}\n"
            + "{% endif %}{% endfor %}",
        "3"
      },
      {"a\nb\n{{ foo( }}", "3"},
      {"a\nb\n{% for m in messages %}{{ m.content }}", "3"},
    };
    for (String[] c : cases) {
      ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(c[0]), c[0]);
      assertEquals(Integer.parseInt(c[1]), e.templateLine(), c[0] + " -> " + e.getMessage());
      assertTrue(e.getMessage().startsWith("chat template line " + c[1]), e.getMessage());
    }
    ChatTemplateException raised =
        assertThrows(
            ChatTemplateException.class, () -> render("{{ raise_exception('no system') }}"));
    assertTrue(raised.getMessage().contains("no system"), raised.getMessage());
  }

  @Test
  void loopFiltersCountOnlyKeptItems() throws Exception {
    // Expected value from Jinja2: loop.index and loop.last see the filtered sequence.
    assertEquals(
        "1user;2assistantL;",
        render(
            "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}"
                + "{% if loop.last %}L{% endif %};{% endfor %}"));
    assertEquals(
        "sua", render("{% for m in (messages if true else []) %}{{ m.role[0:1] }}{% endfor %}"));
  }

  @Test
  void forElseRendersOnlyForEmptySequences() throws Exception {
    // Expected values from Jinja2; Jinjava alone renders the else branch after every item.
    assertEquals("xxx", render("{% for m in messages %}x{% else %}empty{% endfor %}"));
    assertEquals("empty", render("{% for m in [] %}x{% else %}empty{% endfor %}"));
    assertEquals(
        "empty|u",
        render(
            "{% for m in messages if m.role == 'tool' %}x{% else %}empty{% endfor %}|"
                + "{% for m in messages if m.role == 'user' %}{% for c in [] %}{% else %}"
                + "{{ m.role[0:1] }}{% endfor %}{% else %}none{% endfor %}"));
  }

  @Test
  void oneTrailingNewlineOfTheTemplateIsDropped() throws Exception {
    // As Jinja2 (keep_trailing_newline=False): chat_template.jinja files usually end with one.
    assertEquals("x", render("{{ 'x' }}\n"));
    assertEquals("x\n", render("{{ 'x' }}\n\n"));
  }

  @Test
  void rendersDoNotLeakStateIntoEachOther() throws Exception {
    ChatTemplate t =
        ChatTemplate.of(
            "{% if messages[0].role == 'system' %}{% set s = 'S' %}{% endif %}{{ s }}|"
                + "{% macro m() %}M{% endmacro %}{{ m() }}",
            Map.of());
    assertEquals("S|M", t.render(CHAT, false));
    assertEquals("|M", t.render(CHAT.subList(1, 3), false));
  }

  @Test
  void strftimeNowIsDefinedAsInTransformers() throws Exception {
    // Llama 3.1 prints today's date only when "strftime_now is defined".
    String out =
        render("{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}{% endif %}");
    assertTrue(out.matches("\\d{2} [A-Z][a-z]{2} \\d{4}"), out);
  }

  @Test
  void pythonFloatRepr() {
    assertEquals("1.0", PyJson.pythonFloat(1.0));
    assertEquals("0.5", PyJson.pythonFloat(0.5));
    assertEquals("1e-05", PyJson.pythonFloat(1e-5));
    assertEquals("1e+16", PyJson.pythonFloat(1e16));
    assertEquals("123456.789", PyJson.pythonFloat(123456.789));
    assertEquals("-0.0001", PyJson.pythonFloat(-1e-4));
  }
}
