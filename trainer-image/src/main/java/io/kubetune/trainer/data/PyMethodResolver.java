package io.kubetune.trainer.data;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Resolves Python {@code str} and {@code dict} method calls ({@code content.strip()}, {@code
 * role.startswith('a')}, {@code message.items()}) that HF chat templates use, because Jinjava only
 * offers Java's methods. Everything else falls through to Jinjava's own resolver.
 */
final class PyMethodResolver extends ELResolver {

  @Override
  public Object invoke(
      ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
    Object[] args = params == null ? new Object[0] : params;
    Object result;
    if (base instanceof String s) {
      result = invokeString(s, String.valueOf(method), args);
    } else if (base instanceof Map<?, ?> m) {
      result = invokeMap(m, String.valueOf(method), args);
    } else {
      return null;
    }
    if (result == NOT_HANDLED) {
      return null;
    }
    context.setPropertyResolved(true);
    return result;
  }

  private static final Object NOT_HANDLED = new Object();

  private static Object arg(Object[] args, int i) {
    return args.length > i ? args[i] : null;
  }

  private static int intArg(Object[] args, int i, int fallback) {
    Object a = arg(args, i);
    return a instanceof Number n ? n.intValue() : fallback;
  }

  private static Object invokeString(String s, String method, Object[] args) {
    switch (method) {
      case "strip":
        return PyStrings.strip(s, arg(args, 0), true, true);
      case "lstrip":
        return PyStrings.strip(s, arg(args, 0), true, false);
      case "rstrip":
        return PyStrings.strip(s, arg(args, 0), false, true);
      case "startswith":
        return PyStrings.startsOrEndsWith(s, arg(args, 0), true);
      case "endswith":
        return PyStrings.startsOrEndsWith(s, arg(args, 0), false);
      case "upper":
        return s.toUpperCase(Locale.ROOT);
      case "lower":
        return s.toLowerCase(Locale.ROOT);
      case "title":
        return PyStrings.title(s);
      case "capitalize":
        return PyStrings.capitalize(s);
      case "split":
        return PyStrings.split(s, arg(args, 0), intArg(args, 1, -1));
      case "replace":
        return replace(s, String.valueOf(arg(args, 0)), String.valueOf(arg(args, 1)), args);
      case "find":
        return s.indexOf(String.valueOf(arg(args, 0)));
      case "rfind":
        return s.lastIndexOf(String.valueOf(arg(args, 0)));
      case "count":
        return PyStrings.count(s, String.valueOf(arg(args, 0)));
      case "join":
        return join(s, arg(args, 0));
      case "isspace":
        return !s.isEmpty() && s.codePoints().allMatch(PyStrings::isSpace);
      case "isdigit":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
      default:
        return NOT_HANDLED;
    }
  }

  private static String replace(String s, String from, String to, Object[] args) {
    int limit = intArg(args, 2, -1);
    if (limit < 0) {
      return s.replace(from, to);
    }
    StringBuilder out = new StringBuilder();
    int start = 0;
    for (int done = 0; done < limit; done++) {
      int at = s.indexOf(from, start);
      if (at < 0) {
        break;
      }
      out.append(s, start, at).append(to);
      start = at + from.length();
    }
    return out.append(s.substring(start)).toString();
  }

  private static String join(String separator, Object items) {
    List<String> parts = new ArrayList<>();
    if (items instanceof Iterable<?> it) {
      it.forEach(o -> parts.add(String.valueOf(o)));
    } else if (items != null) {
      parts.add(String.valueOf(items));
    }
    return String.join(separator, parts);
  }

  private static Object invokeMap(Map<?, ?> m, String method, Object[] args) {
    switch (method) {
      case "items":
        {
          List<List<Object>> items = new ArrayList<>();
          m.forEach((k, v) -> items.add(Arrays.asList(k, v)));
          return items;
        }
      case "keys":
        return new ArrayList<>(m.keySet());
      case "values":
        return new ArrayList<>(m.values());
      case "get":
        {
          Object key = arg(args, 0);
          return m.containsKey(key) ? m.get(key) : arg(args, 1);
        }
      default:
        return NOT_HANDLED;
    }
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
