package io.kubetune.trainer.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.kubetune.contract.Contract;
import io.kubetune.contract.ContractException;
import io.kubetune.contract.TrainerConfig;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the trainer config from a JSON file (the operator's {@code job.json}) or a YAML file (hand
 * written for local runs); both become the same JSON tree and are read with {@link
 * Contract#readStrict}, so a typo is an error that names the field rather than a setting silently
 * ignored.
 *
 * <p>Beyond what Jackson checks, values that Jackson would quietly coerce ({@code rank: 8.5} read
 * as 8, {@code "8"} read as a number, {@code format: 5} read as {@code "5"}) are rejected, and
 * {@code "auto"} is accepted for hyperparameters (it means "derive a value", like a missing one).
 */
public final class ConfigLoader {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final YAMLMapper YAML = new YAMLMapper(new YAMLFactory());

  private ConfigLoader() {}

  /**
   * Loads a config file; a folder is read as the mounted ConfigMap holding {@link
   * Contract#CONFIG_KEY}.
   *
   * @throws ConfigException naming the field or the file problem and how to fix it
   */
  public static TrainerConfig load(Path file) {
    Path path = file;
    if (Files.isDirectory(path)) {
      path = path.resolve(Contract.CONFIG_KEY);
    }
    if (!Files.isRegularFile(path)) {
      throw ConfigException.of(
          "--config",
          "file " + path + " does not exist",
          "pass the path of the trainer config (job.json, or a .yaml/.json file)");
    }
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (MalformedInputException e) {
      throw ConfigException.of(
          "--config", "file " + path + " is not UTF-8 text", "save it as UTF-8");
    } catch (IOException e) {
      throw ConfigException.of(
          "--config",
          "cannot read " + path + " (" + e.getClass().getSimpleName() + ")",
          "check the file permissions");
    }
    return parse(text, isYaml(path, text), path.toString());
  }

  /**
   * Parses config text.
   *
   * @param yaml whether the text is YAML (else JSON)
   * @param source where the text came from, for messages
   */
  public static TrainerConfig parse(String text, boolean yaml, String source) {
    if (text.isBlank()) {
      throw ConfigException.of(
          "--config", source + " is empty", "write the config as a JSON or YAML object");
    }
    JsonNode tree;
    try {
      tree = yaml ? readYaml(text) : JSON.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      String where =
          loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      throw ConfigException.of(
          "--config",
          source + " is not valid " + (yaml ? "YAML" : "JSON") + where + ": " + firstLine(e),
          "fix the syntax there");
    } catch (IOException e) {
      throw ConfigException.of(
          "--config", "cannot parse " + source + ": " + e.getMessage(), "fix the syntax");
    }
    if (tree == null || tree.isNull() || tree.isMissingNode()) {
      throw ConfigException.of(
          "--config", source + " is empty", "write the config as a JSON or YAML object");
    }
    if (!tree.isObject()) {
      throw ConfigException.of(
          "--config",
          source + " holds a " + kind(tree) + ", not an object",
          "the config is an object with fields such as baseModel, dataset, method");
    }
    acceptAuto((ObjectNode) tree);
    TrainerConfig config;
    try {
      config = Contract.readStrict(tree.toString(), TrainerConfig.class);
    } catch (ContractException e) {
      throw translate(e);
    }
    List<ConfigProblem> problems = new ArrayList<>();
    checkTypes(tree, TrainerConfig.class, "", problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  private static JsonNode readYaml(String text) throws IOException {
    try (JsonParser parser = YAML.createParser(text)) {
      JsonNode first = YAML.readTree(parser);
      if (parser.nextToken() != null) {
        throw ConfigException.of(
            "--config",
            "the YAML file holds more than one document",
            "keep a single document (remove the extra '---')");
      }
      return first;
    }
  }

  private static boolean isYaml(Path path, String text) {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".yaml") || name.endsWith(".yml")) {
      return true;
    }
    if (name.endsWith(".json")) {
      return false;
    }
    return !text.stripLeading().startsWith("{");
  }

  /** Hyperparameters set to "auto" mean "derive it": the same as leaving them out. */
  private static void acceptAuto(ObjectNode root) {
    JsonNode hp = root.get("hyperparameters");
    if (hp instanceof ObjectNode) {
      List<String> auto = new ArrayList<>();
      for (Map.Entry<String, JsonNode> e : hp.properties()) {
        if (e.getValue().isTextual() && e.getValue().asText().equalsIgnoreCase("auto")) {
          auto.add(e.getKey());
        }
      }
      ((ObjectNode) hp).remove(auto);
    }
  }

  private static ConfigException translate(ContractException e) {
    Throwable cause = e.getCause();
    if (cause instanceof UnrecognizedPropertyException) {
      UnrecognizedPropertyException u = (UnrecognizedPropertyException) cause;
      String parent = path(u.getPath().subList(0, Math.max(0, u.getPath().size() - 1)));
      String name = u.getPropertyName();
      List<String> known = new ArrayList<>();
      Collection<Object> ids = u.getKnownPropertyIds();
      if (ids != null) {
        ids.forEach(id -> known.add(String.valueOf(id)));
      }
      known.sort(null);
      String suggestion = closest(name, known);
      String fix =
          (suggestion != null ? "did you mean '" + suggestion + "'? " : "")
              + "known fields: "
              + String.join(", ", known);
      return ConfigException.of(
          parent.isEmpty() ? name : parent + "." + name,
          "unknown field '" + name + "' in " + (parent.isEmpty() ? "the config" : parent),
          fix);
    }
    if (cause instanceof MismatchedInputException) {
      MismatchedInputException m = (MismatchedInputException) cause;
      String field = path(m.getPath());
      String got =
          cause instanceof InvalidFormatException
              ? ", got " + JSON.valueToTree(((InvalidFormatException) cause).getValue())
              : "";
      Class<?> target = m.getTargetType();
      return ConfigException.of(
          field.isEmpty() ? "--config" : field,
          "expected " + describe(target) + got,
          "write " + describe(target) + " there");
    }
    if (cause instanceof JsonMappingException) {
      JsonMappingException m = (JsonMappingException) cause;
      return ConfigException.of(
          m.getPath().isEmpty() ? "--config" : path(m.getPath()),
          firstLine(m),
          "fix the value there");
    }
    return ConfigException.of("--config", e.getMessage(), "fix the config");
  }

  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : refs) {
      if (r.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  /** Checks that each value has the JSON type of its field, where Jackson would have coerced it. */
  private static void checkTypes(
      JsonNode node, Class<?> recordType, String prefix, List<ConfigProblem> problems) {
    Map<String, RecordComponent> components = new HashMap<>();
    for (RecordComponent c : recordType.getRecordComponents()) {
      components.put(c.getName(), c);
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      RecordComponent c = components.get(e.getKey());
      JsonNode v = e.getValue();
      if (c == null || v.isNull()) {
        continue;
      }
      String field = prefix + e.getKey();
      Class<?> t = c.getType();
      if (t == Integer.class || t == Long.class || t == int.class || t == long.class) {
        if (!v.isIntegralNumber() && !(v.isNumber() && isWhole(v))) {
          problems.add(typeProblem(field, "a whole number", v));
        }
      } else if (t == Double.class || t == double.class) {
        if (!v.isNumber()) {
          problems.add(typeProblem(field, "a number", v));
        }
      } else if (t == Boolean.class || t == boolean.class) {
        if (!v.isBoolean()) {
          problems.add(typeProblem(field, "true or false", v));
        }
      } else if (t == String.class) {
        if (!v.isTextual()) {
          problems.add(typeProblem(field, "a string", v));
        }
      } else if (List.class.isAssignableFrom(t)) {
        Type element = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
        if (!v.isArray()) {
          problems.add(typeProblem(field, "a list", v));
        } else if (element == String.class) {
          for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
              problems.add(typeProblem(field + "[" + i + "]", "a string", v.get(i)));
            }
          }
        }
      } else if (t.isRecord()) {
        if (!v.isObject()) {
          problems.add(typeProblem(field, "an object", v));
        } else {
          checkTypes(v, t, field + ".", problems);
        }
      }
    }
  }

  private static boolean isWhole(JsonNode v) {
    double d = v.asDouble();
    return d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 9.0e15;
  }

  private static ConfigProblem typeProblem(String field, String expected, JsonNode got) {
    return new ConfigProblem(
        field, "expected " + expected + ", got " + kind(got) + " " + got, "write " + expected);
  }

  private static String kind(JsonNode n) {
    if (n.isTextual()) {
      return "string";
    }
    if (n.isNumber()) {
      return "number";
    }
    if (n.isBoolean()) {
      return "boolean";
    }
    if (n.isArray()) {
      return "list";
    }
    if (n.isObject()) {
      return "object";
    }
    return "null";
  }

  private static String describe(Class<?> t) {
    if (t == null) {
      return "a different value";
    }
    if (t == Integer.class || t == Long.class || t == int.class || t == long.class) {
      return "a whole number";
    }
    if (t == Double.class || t == double.class) {
      return "a number";
    }
    if (t == Boolean.class || t == boolean.class) {
      return "true or false";
    }
    if (t == String.class) {
      return "a string";
    }
    if (List.class.isAssignableFrom(t)) {
      return "a list";
    }
    return "an object";
  }

  private static String firstLine(Exception e) {
    String m =
        e instanceof JsonProcessingException
            ? ((JsonProcessingException) e).getOriginalMessage()
            : e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl >= 0 ? m.substring(0, nl) : m;
  }

  /** The known name closest to {@code name} when it is plausibly a typo, else null. */
  static String closest(String name, List<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      // Abbreviations ("hyperparams") are far in edit distance but share a long prefix.
      if (commonPrefix(name.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT))
          >= Math.max(4, (int) Math.ceil(name.length() * 0.7))) {
        return k;
      }
    }
    for (String k : known) {
      int d = distance(name.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best != null && bestDistance <= Math.max(2, name.length() / 3) ? best : null;
  }

  private static int commonPrefix(String a, String b) {
    int n = 0;
    while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
      n++;
    }
    return n;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
