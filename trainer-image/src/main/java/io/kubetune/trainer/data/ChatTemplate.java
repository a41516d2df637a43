package io.kubetune.trainer.data;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.AutoCloseableSupplier.AutoCloseableImpl;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.expression.ExpressionStrategy;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face chat template rendered with Jinjava so that the text equals transformers' {@code
 * apply_chat_template(..., tokenize=False)}.
 *
 * <p>HF renders with Jinja2 ({@code trim_blocks}, {@code lstrip_blocks}) plus {@code
 * raise_exception}, {@code strftime_now}, a {@code tojson} that keeps key order and a {@code
 * generation} block tag. Jinjava gets the same: whitespace control and operator precedence as in
 * Jinja2, Python string/dict methods, the HF functions and filters. Every Jinjava error (syntax,
 * unknown function, {@code raise_exception}) fails the render with the template line, because
 * Jinjava otherwise returns partial output and the model would silently train on it.
 */
public final class ChatTemplate {
  /** ChatML, the template used when the tokenizer defines none (as TRL's default). */
  public static final String CHATML =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n'"
          + " + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

  private final String source;
  private final Map<String, Object> globals;
  private final Jinjava jinjava;
  private final Node root;
  private final List<TemplateError> parseErrors;
  private final ChatTemplateException unusable;

  private ChatTemplate(String source, Map<String, String> specialTokens) {
    this.source = source;
    this.globals = new HashMap<>(specialTokens);
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PyMethodResolver());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            // Message content is data: "{{ x }}" inside a message must stay literal text.
            .withNestedInterpretationEnabled(false)
            .withElResolver(resolver)
            .withLegacyOverrides(
                LegacyOverrides.newBuilder()
                    .withUseTrimmingForNotesAndExpressions(true)
                    .withParseWhitespaceControlStrictly(true)
                    .withUseNaturalOperatorPrecedence(true)
                    .withKeepNullableLoopValues(true)
                    .withEvaluateMapKeys(true)
                    // {{ a_dict }} prints Python's repr, as in Jinja2.
                    .withUsePyishObjectMapper(true)
                    .build())
            .build();
    jinjava = new Jinjava(config);
    try {
      jinjava
          .getGlobalContext()
          .registerFunction(
              new ELFunctionDefinition(
                  "",
                  "raise_exception",
                  ChatTemplate.class.getDeclaredMethod("raiseException", Object.class)));
      jinjava
          .getGlobalContext()
          .registerFunction(
              new ELFunctionDefinition(
                  "",
                  "strftime_now",
                  ChatTemplate.class.getDeclaredMethod("strftimeNow", String.class)));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
    jinjava.getGlobalContext().registerFilter(new ToJsonFilter());
    jinjava.getGlobalContext().registerFilter(new TrimFilter());
    jinjava.getGlobalContext().registerTag(new GenerationTag());
    FilteringForTag forTag = new FilteringForTag();
    jinjava.getGlobalContext().registerTag(forTag);
    ChatTemplateException refused = null;
    Node parsed = null;
    List<TemplateError> errors = List.of();
    // Parsed once: Jinjava's renderForResult re-parses per call, ten times slower than rendering.
    try (AutoCloseableImpl<JinjavaInterpreter> parser =
        JinjavaInterpreter.closeablePushCurrent(jinjava.newInterpreter()).get()) {
      // Expression nodes take their output strategy from the parsing context.
      parser.value().getContext().setExpressionStrategy(new PythonOutput());
      parsed = parser.value().parse(withoutTrailingNewline(this.source));
      errors = parser.value().getErrorsCopy();
      forTag.splitElseBranches(parsed);
    } catch (RuntimeException e) {
      if (refused == null) {
        refused = new ChatTemplateException(0, "chat template cannot be parsed: " + e.getMessage());
      }
    }
    unusable = refused;
    root = parsed;
    parseErrors = errors;
  }

  /**
   * A template with the tokenizer's special tokens ({@code bos_token}, {@code eos_token}, ...) as
   * variables, as HF passes them.
   *
   * @param source the Jinja source, or null for {@link #CHATML}
   */
  public static ChatTemplate of(String source, Map<String, String> specialTokens) {
    return new ChatTemplate(source == null ? CHATML : source, specialTokens);
  }

  /** The Jinja source. */
  public String source() {
    return source;
  }

  /**
   * Renders a conversation.
   *
   * @param messages the messages, each a map with at least {@code role} and {@code content}
   * @param addGenerationPrompt append the header that starts an assistant turn
   * @throws ChatTemplateException when the template raises or cannot be rendered
   */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt)
      throws ChatTemplateException {
    if (unusable != null) {
      throw new ChatTemplateException(unusable.templateLine(), unusable.getMessage());
    }
    Map<String, Object> bindings = new HashMap<>(globals);
    bindings.put("messages", messages);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    bindings.put("tools", null);
    bindings.put("documents", null);
    // Functions are not variables in Jinjava; templates test "strftime_now is defined" first.
    bindings.put("strftime_now", "strftime_now");
    RAISED.remove();
    String output;
    List<TemplateError> errors = new ArrayList<>(parseErrors);
    JinjavaInterpreter fresh =
        new JinjavaInterpreter(
            jinjava, new Context(jinjava.getGlobalContext(), bindings), jinjava.getGlobalConfig());
    try (AutoCloseableImpl<JinjavaInterpreter> interpreter =
        JinjavaInterpreter.closeablePushCurrent(fresh).get()) {
      output = interpreter.value().render(root);
      errors.addAll(interpreter.value().getErrorsCopy());
    } catch (RuntimeException e) {
      throw new ChatTemplateException(0, "chat template failed: " + e.getMessage());
    }
    String raised = RAISED.get();
    RAISED.remove();
    if (!errors.isEmpty()) {
      TemplateError first = errors.get(0);
      int line = locate(source, first.getFieldName(), first.getLineno());
      String what = raised != null ? "raised: " + raised : first.getMessage();
      throw new ChatTemplateException(line, "chat template line " + line + " " + what);
    }
    return output;
  }

  /**
   * The source line of a failing expression or tag. Jinjava counts lines after trim_blocks removed
   * newlines, so its numbers can be too small; the failing text's first occurrence at or after
   * Jinjava's line is the right one.
   */
  static int locate(String source, String fragment, int jinjavaLine) {
    int fallback = Math.max(0, jinjavaLine);
    if (fragment == null || fragment.isBlank() || fragment.equals("null")) {
      return fallback;
    }
    int last = -1;
    for (int at = source.indexOf(fragment); at >= 0; at = source.indexOf(fragment, at + 1)) {
      int line = 1;
      for (int i = 0; i < at; i++) {
        if (source.charAt(i) == '\n') {
          line++;
        }
      }
      if (line >= fallback) {
        return line;
      }
      last = line;
    }
    return last > 0 ? last : fallback;
  }

  /** Jinja2 drops one trailing newline of a template (keep_trailing_newline=False); Jinjava not. */
  static String withoutTrailingNewline(String source) {
    if (source.endsWith("\r\n")) {
      return source.substring(0, source.length() - 2);
    }
    return source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
  }

  /** HF's {@code raise_exception(message)}. */
  public static Object raiseException(Object message) {
    RAISED.set(String.valueOf(message));
    throw new IllegalStateException(String.valueOf(message));
  }

  /** HF's {@code strftime_now(format)} for the common C format codes. */
  public static String strftimeNow(String format) {
    LocalDateTime now = LocalDateTime.now();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char code = format.charAt(++i);
      String pattern =
          switch (code) {
            case 'd' -> "dd";
            case 'b' -> "MMM";
            case 'B' -> "MMMM";
            case 'Y' -> "yyyy";
            case 'm' -> "MM";
            case 'H' -> "HH";
            case 'M' -> "mm";
            case 'S' -> "ss";
            case 'y' -> "yy";
            case 'A' -> "EEEE";
            case 'a' -> "EEE";
            default -> null;
          };
      if (pattern == null) {
        out.append(code == '%' ? "%" : "%" + code);
      } else {
        out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(now));
      }
    }
    return out.toString();
  }

  /** Prints {@code {{ expr }}} as Jinja2 does: booleans as {@code True}/{@code False}. */
  static final class PythonOutput implements ExpressionStrategy {
    @Override
    public RenderedOutputNode interpretOutput(
        ExpressionToken token, JinjavaInterpreter interpreter) {
      Object value = interpreter.resolveELExpression(token.getExpr(), token.getLineNumber());
      String text =
          value instanceof Boolean b ? (b ? "True" : "False") : interpreter.getAsString(value);
      return new RenderedOutputNode(text);
    }
  }

  /** HF's {@code tojson}: Python {@code json.dumps} with insertion order and non-ASCII kept. */
  static final class ToJsonFilter implements Filter {
    @Override
    public String getName() {
      return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      return filter(var, interpreter, (Object[]) args, Map.of());
    }

    @Override
    public Object filter(
        Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : first(args);
      Integer spaces = indent == null ? null : Integer.valueOf(String.valueOf(indent).trim());
      return PyJson.dumps(var, spaces);
    }

    private static Object first(Object[] args) {
      return args != null && args.length > 0 ? args[0] : null;
    }
  }

  /** Jinja2's {@code trim}: Python {@code str.strip(chars)}, Unicode whitespace included. */
  static final class TrimFilter implements Filter {
    @Override
    public String getName() {
      return "trim";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      if (var == null) {
        return "";
      }
      Object chars = args != null && args.length > 0 ? args[0] : null;
      return PyStrings.strip(var.toString(), chars, true, true);
    }
  }

  /**
   * HF's {@code {% generation %}} block, which marks assistant text for {@code
   * return_assistant_tokens_mask}; it renders its body unchanged (we locate assistant text by
   * prefix rendering instead).
   */
  static final class GenerationTag implements Tag {
    @Override
    public String getName() {
      return "generation";
    }

    @Override
    public String getEndTagName() {
      return "endgeneration";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
      StringBuilder out = new StringBuilder();
      for (Node child : tagNode.getChildren()) {
        out.append(child.render(interpreter).getValue());
      }
      return out.toString();
    }
  }
}
