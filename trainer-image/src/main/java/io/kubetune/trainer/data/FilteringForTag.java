package io.kubetune.trainer.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's {@code for} with a loop filter ({@code {% for m in messages if m.role != 'system' %}}),
 * which Jinjava's own tag renders as nothing. Items are filtered first and the loop then runs over
 * the kept items, so {@code loop.index}, {@code loop.first} and {@code loop.last} count only them,
 * as in Jinja2. Loops without a filter are Jinjava's.
 */
final class FilteringForTag extends ForTag {
  private static final long serialVersionUID = 1L;
  private static final Pattern FILTERED =
      Pattern.compile("^\\s*([\\w\\s,]+?)\\s+in\\s+(.+?)\\s+if\\s+(.+?)\\s*$", Pattern.DOTALL);

  @Override
  @SuppressWarnings("try") // the scope only has to be open while the condition is evaluated
  public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
    Matcher m = FILTERED.matcher(tagNode.getHelpers());
    // "x in (a if b else c)" is a conditional expression, not a filter.
    if (!m.matches() || m.group(3).matches("(?s).*\\belse\\b.*")) {
      return super.interpret(tagNode, interpreter);
    }
    List<String> vars =
        Arrays.stream(m.group(1).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    int line = tagNode.getLineNumber();
    Object sequence = interpreter.resolveELExpression(m.group(2), line);
    List<Object> kept = new ArrayList<>();
    ForLoop items = ObjectIterator.getLoop(sequence);
    while (items.hasNext()) {
      Object item = items.next();
      try (InterpreterScopeClosable scope = interpreter.enterScope()) {
        bind(interpreter, vars, item);
        if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(m.group(3), line))) {
          kept.add(item);
        }
      }
    }
    return renderForCollection(tagNode, interpreter, vars, kept);
  }

  private static void bind(JinjavaInterpreter interpreter, List<String> vars, Object item) {
    if (vars.size() == 1) {
      interpreter.getContext().put(vars.get(0), item);
      return;
    }
    List<Object> parts = new ArrayList<>();
    if (item instanceof Iterable<?> it) {
      it.forEach(parts::add);
    } else if (item instanceof java.util.Map.Entry<?, ?> e) {
      parts.add(e.getKey());
      parts.add(e.getValue());
    }
    for (int i = 0; i < vars.size(); i++) {
      interpreter.getContext().put(vars.get(i), i < parts.size() ? parts.get(i) : null);
    }
  }
}
