package io.kubetune.trainer.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's {@code for} where Jinjava's differs: loop filters ({@code {% for m in messages if m.role
 * != 'system' %}}), which Jinjava renders as nothing, and {@code {% else %}} branches, which
 * Jinjava renders after every item. Items are filtered first and the loop then runs over the kept
 * items, so {@code loop.index}, {@code loop.first} and {@code loop.last} count only them, as in
 * Jinja2; the else branch renders only when no item is left. Other loops are Jinjava's.
 *
 * <p>One instance belongs to one parsed template: {@link #splitElseBranches} detaches the else
 * branches from the tree once, after parsing.
 */
final class FilteringForTag extends ForTag {
  private static final long serialVersionUID = 1L;
  private final Map<TagNode, List<Node>> elseBranches = new IdentityHashMap<>();

  private static final Pattern FILTERED =
      Pattern.compile("^\\s*([\\w\\s,]+?)\\s+in\\s+(.+?)\\s+if\\s+(.+?)\\s*$", Pattern.DOTALL);

  /** Moves every for loop's {@code {% else %}} branch out of its body (Jinjava would loop it). */
  void splitElseBranches(Node node) {
    for (Node child : node.getChildren()) {
      splitElseBranches(child);
    }
    if (node instanceof TagNode tag && tag.getTag() == this) {
      LinkedList<Node> body = new LinkedList<>();
      List<Node> otherwise = null;
      for (Node child : tag.getChildren()) {
        if (otherwise == null && child instanceof TagNode t && t.getName().equals("else")) {
          otherwise = new ArrayList<>();
        } else if (otherwise != null) {
          otherwise.add(child);
        } else {
          body.add(child);
        }
      }
      if (otherwise != null) {
        tag.setChildren(body);
        elseBranches.put(tag, otherwise);
      }
    }
  }

  @Override
  @SuppressWarnings("try") // the scope only has to be open while the condition is evaluated
  public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
    Matcher m = FILTERED.matcher(tagNode.getHelpers());
    // "x in (a if b else c)" is a conditional expression, not a filter.
    boolean filtered = m.matches() && !m.group(3).matches("(?s).*\\belse\\b.*");
    List<Node> otherwise = elseBranches.get(tagNode);
    if (!filtered && otherwise == null) {
      return super.interpret(tagNode, interpreter);
    }
    int line = tagNode.getLineNumber();
    List<String> vars;
    String sequenceExpression;
    if (filtered) {
      vars =
          Arrays.stream(m.group(1).split(","))
              .map(String::strip)
              .filter(v -> !v.isEmpty())
              .toList();
      sequenceExpression = m.group(2);
    } else {
      var loop = getLoopVarsAndExpression((TagToken) tagNode.getMaster());
      vars = loop.getLeft();
      sequenceExpression = loop.getRight();
    }
    Object sequence = interpreter.resolveELExpression(sequenceExpression, line);
    List<Object> kept = new ArrayList<>();
    ForLoop items = ObjectIterator.getLoop(sequence);
    while (items.hasNext()) {
      Object item = items.next();
      if (!filtered) {
        kept.add(item);
        continue;
      }
      try (InterpreterScopeClosable scope = interpreter.enterScope()) {
        bind(interpreter, vars, item);
        if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(m.group(3), line))) {
          kept.add(item);
        }
      }
    }
    if (kept.isEmpty() && otherwise != null) {
      StringBuilder out = new StringBuilder();
      for (Node node : otherwise) {
        out.append(node.render(interpreter).getValue());
      }
      return out.toString();
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
