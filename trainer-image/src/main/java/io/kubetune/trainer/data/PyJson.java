package io.kubetune.trainer.data;

import java.math.BigDecimal;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii=False, indent=indent)}, which HF installs as the
 * {@code tojson} filter of chat templates: insertion-ordered keys, {@code ", "} and {@code ": "}
 * separators, non-ASCII kept. Jinjava's own tojson is compact and would change the rendered text.
 */
final class PyJson {
  private PyJson() {}

  static String dumps(Object value, Integer indent) {
    StringBuilder out = new StringBuilder();
    write(out, value, indent, 0);
    return out.toString();
  }

  private static void write(StringBuilder out, Object v, Integer indent, int depth) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (v instanceof Double || v instanceof Float) {
      out.append(pythonFloat(((Number) v).doubleValue()));
    } else if (v instanceof Number n) {
      out.append(n instanceof BigDecimal bd ? bd.toPlainString() : n.toString());
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        out.append("{}");
        return;
      }
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        separator(out, first, indent, depth + 1);
        first = false;
        string(out, String.valueOf(e.getKey()));
        out.append(": ");
        write(out, e.getValue(), indent, depth + 1);
      }
      close(out, indent, depth, '}');
    } else if (v instanceof Iterable<?> it) {
      if (!it.iterator().hasNext()) {
        out.append("[]");
        return;
      }
      out.append('[');
      boolean first = true;
      for (Object o : it) {
        separator(out, first, indent, depth + 1);
        first = false;
        write(out, o, indent, depth + 1);
      }
      close(out, indent, depth, ']');
    } else if (v instanceof Object[] array) {
      write(out, java.util.Arrays.asList(array), indent, depth);
    } else {
      string(out, v.toString());
    }
  }

  private static void separator(StringBuilder out, boolean first, Integer indent, int depth) {
    if (indent == null) {
      if (!first) {
        out.append(", ");
      }
    } else {
      out.append(first ? "\n" : ",\n").append(" ".repeat(indent * depth));
    }
  }

  private static void close(StringBuilder out, Integer indent, int depth, char bracket) {
    if (indent != null) {
      out.append('\n').append(" ".repeat(indent * depth));
    }
    out.append(bracket);
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 and from 1e16. */
  static String pythonFloat(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = exact.unscaledValue().abs().toString();
    int exponent = digits.length() - 1 - exact.scale();
    String sign = d < 0 ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
      String mantissa =
          digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      String exp = String.format("%02d", Math.abs(exponent));
      return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
    }
    String plain = exact.abs().toPlainString();
    return sign + (plain.contains(".") ? plain : plain + ".0");
  }
}
