package io.kubetune.trainer.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Python {@code str} semantics that chat templates rely on and Java's String lacks. */
final class PyStrings {
  private PyStrings() {}

  /** Python's {@code str.isspace} for one code point. */
  static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
  }

  static String strip(String s, Object chars, boolean left, boolean right) {
    int start = 0;
    int end = s.length();
    String set = chars == null ? null : String.valueOf(chars);
    while (left && start < end && stripped(s.codePointAt(start), set)) {
      start += Character.charCount(s.codePointAt(start));
    }
    while (right && end > start && stripped(s.codePointBefore(end), set)) {
      end -= Character.charCount(s.codePointBefore(end));
    }
    return s.substring(start, end);
  }

  private static boolean stripped(int cp, String set) {
    return set == null ? isSpace(cp) : set.indexOf(cp) >= 0;
  }

  static String title(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean previousCased = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      boolean cased = Character.isLetter(cp);
      if (cased) {
        out.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
      } else {
        out.appendCodePoint(cp);
      }
      previousCased = cased;
      i += Character.charCount(cp);
    }
    return out.toString();
  }

  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    return new StringBuilder()
        .appendCodePoint(Character.toUpperCase(first))
        .append(s.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT))
        .toString();
  }

  static boolean startsOrEndsWith(String s, Object affix, boolean start) {
    if (affix instanceof Collection<?> options) {
      for (Object o : options) {
        if (startsOrEndsWith(s, o, start)) {
          return true;
        }
      }
      return false;
    }
    String a = String.valueOf(affix);
    return start ? s.startsWith(a) : s.endsWith(a);
  }

  static List<String> split(String s, Object sep, int maxSplit) {
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      // Python splits on runs of whitespace and drops empty strings at both ends.
      int i = 0;
      while (i < s.length()) {
        while (i < s.length() && isSpace(s.codePointAt(i))) {
          i += Character.charCount(s.codePointAt(i));
        }
        if (i >= s.length()) {
          break;
        }
        if (maxSplit >= 0 && parts.size() == maxSplit) {
          parts.add(strip(s.substring(i), null, false, true));
          return parts;
        }
        int j = i;
        while (j < s.length() && !isSpace(s.codePointAt(j))) {
          j += Character.charCount(s.codePointAt(j));
        }
        parts.add(s.substring(i, j));
        i = j;
      }
      return parts;
    }
    String d = String.valueOf(sep);
    if (d.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int from = 0;
    while (maxSplit < 0 || parts.size() < maxSplit) {
      int at = s.indexOf(d, from);
      if (at < 0) {
        break;
      }
      parts.add(s.substring(from, at));
      from = at + d.length();
    }
    parts.add(s.substring(from));
    return parts;
  }

  static int count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.codePointCount(0, s.length()) + 1;
    }
    int n = 0;
    for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
      n++;
    }
    return n;
  }
}
