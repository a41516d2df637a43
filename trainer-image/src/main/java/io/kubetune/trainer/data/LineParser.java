package io.kubetune.trainer.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kubetune.contract.DatasetErrorCode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses JSONL lines into {@link Example}s, detecting the dataset's format from the first line that
 * has a recognizable layout ({@code format: auto}) or enforcing the declared one.
 */
final class LineParser {
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
  private static final Set<String> ROLES = Set.of("system", "user", "assistant");
  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  private final DatasetFormat declared;
  private DatasetFormat detected;

  /**
   * A parser.
   *
   * @param declared the configured format, or null for auto-detection
   */
  LineParser(DatasetFormat declared) {
    this.declared = declared;
  }

  /** The declared format, else the detected one, else null (nothing recognizable seen yet). */
  DatasetFormat format() {
    return declared != null ? declared : detected;
  }

  Example parse(String line) throws DatasetProblem {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new DatasetProblem(
          DatasetErrorCode.MALFORMED_JSON, "invalid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new DatasetProblem(
          DatasetErrorCode.NOT_AN_OBJECT,
          "line is a JSON "
              + (node == null
                  ? "nothing"
                  : node.getNodeType().name().toLowerCase(java.util.Locale.ROOT))
              + ", not an object");
    }
    DatasetFormat layout = layoutOf(node);
    if (declared != null) {
      if (layout != null && layout != declared.layout()) {
        throw mismatch(layout, declared);
      }
      layout = declared.layout();
    } else {
      if (layout == null) {
        throw new DatasetProblem(
            DatasetErrorCode.UNKNOWN_FORMAT,
            "no 'messages', 'prompt'/'completion' or 'text' field (fields: " + fields(node) + ")");
      }
      if (detected == null) {
        detected = layout;
      } else if (layout != detected) {
        throw mismatch(layout, detected);
      }
    }
    return switch (layout) {
      case CHAT -> chat(node);
      case TEXT -> Example.text(string(node, "text", true));
      default ->
          Example.instruction(string(node, "prompt", false), string(node, "completion", true));
    };
  }

  private static DatasetProblem mismatch(DatasetFormat line, DatasetFormat dataset) {
    return new DatasetProblem(
        DatasetErrorCode.FORMAT_MISMATCH,
        "line is in " + line.id() + " format but the dataset is " + dataset.id());
  }

  private static DatasetFormat layoutOf(JsonNode node) {
    if (node.has("messages")) {
      return DatasetFormat.CHAT;
    }
    if (node.has("prompt") || node.has("completion")) {
      return DatasetFormat.INSTRUCTION;
    }
    if (node.has("text")) {
      return DatasetFormat.TEXT;
    }
    return null;
  }

  private static String fields(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names.isEmpty() ? "none" : String.join(", ", names);
  }

  private static String string(JsonNode node, String field, boolean learned) throws DatasetProblem {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new DatasetProblem(DatasetErrorCode.MISSING_FIELD, "'" + field + "' is missing");
    }
    if (!value.isTextual()) {
      throw new DatasetProblem(
          DatasetErrorCode.MISSING_FIELD,
          "'"
              + field
              + "' must be a string, not "
              + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }
    if (learned && value.asText().isBlank()) {
      throw new DatasetProblem(DatasetErrorCode.EMPTY_COMPLETION, "'" + field + "' is empty");
    }
    return value.asText();
  }

  private static Example chat(JsonNode node) throws DatasetProblem {
    JsonNode messages = node.get("messages");
    if (!messages.isArray()) {
      throw new DatasetProblem(
          DatasetErrorCode.MISSING_FIELD, "'messages' must be an array of {role, content} objects");
    }
    if (messages.isEmpty()) {
      throw new DatasetProblem(DatasetErrorCode.NO_ASSISTANT_TURN, "'messages' is empty");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    Iterator<JsonNode> it = messages.elements();
    for (int i = 0; it.hasNext(); i++) {
      JsonNode m = it.next();
      String where = "messages[" + i + "]";
      if (!m.isObject()) {
        throw new DatasetProblem(
            DatasetErrorCode.MISSING_FIELD, where + " must be an object with 'role' and 'content'");
      }
      JsonNode role = m.get("role");
      if (role == null || !role.isTextual()) {
        throw new DatasetProblem(
            DatasetErrorCode.MISSING_FIELD, where + ".role is missing or not a string");
      }
      if (!ROLES.contains(role.asText())) {
        throw new DatasetProblem(
            DatasetErrorCode.UNKNOWN_ROLE, where + ".role is '" + role.asText() + "'");
      }
      JsonNode content = m.get("content");
      if (content == null || !content.isTextual()) {
        throw new DatasetProblem(
            DatasetErrorCode.MISSING_FIELD, where + ".content is missing or not a string");
      }
      if (role.asText().equals("assistant") && content.asText().isBlank()) {
        throw new DatasetProblem(
            DatasetErrorCode.EMPTY_COMPLETION, where + " is an assistant turn with empty content");
      }
      // Extra keys (e.g. "name") stay: templates may use them.
      out.add(JSON.convertValue(m, MAP));
    }
    String last = String.valueOf(out.get(out.size() - 1).get("role"));
    if (!last.equals("assistant")) {
      boolean any = out.stream().anyMatch(m -> "assistant".equals(m.get("role")));
      throw new DatasetProblem(
          DatasetErrorCode.NO_ASSISTANT_TURN,
          any
              ? "'messages' ends with a " + last + " turn, not an assistant turn"
              : "'messages' has no assistant turn");
    }
    return Example.chat(out);
  }
}
