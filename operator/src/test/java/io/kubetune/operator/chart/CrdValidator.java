package io.kubetune.operator.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates a custom resource the way the API server would on {@code kubectl apply}: structural
 * defaulting, then the CRD's OpenAPI v3 schema (types, required, enums, patterns, bounds, and
 * unknown fields rejected as under kubectl's default strict field validation), then the CEL rules
 * in {@code x-kubernetes-validations}.
 *
 * <p>A small validator rather than a JSON-schema library: Kubernetes' structural schemas differ
 * from JSON Schema where it matters here (unknown fields are errors unless {@code
 * x-kubernetes-preserve-unknown-fields}, {@code x-kubernetes-int-or-string}, {@code nullable},
 * defaults applied before CEL, number-typed values seen by CEL as doubles), and a library would
 * need a lossy schema translation first. Transition rules (those using {@code oldSelf}) are
 * evaluated as on an update that changes nothing: {@code oldSelf = self}.
 */
final class CrdValidator {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final JSONSchemaProps root;
  private final String apiVersion;
  private final String kind;
  private final CelCompiler cel =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .build();
  private final CelRuntime runtime = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  private CrdValidator(JSONSchemaProps root, String apiVersion, String kind) {
    this.root = root;
    this.apiVersion = apiVersion;
    this.kind = kind;
  }

  /** Loads the validator for the served version of a CRD file. */
  static CrdValidator forCrd(Path crdFile) throws IOException {
    try (InputStream in = Files.newInputStream(crdFile)) {
      CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
      CustomResourceDefinitionVersion version =
          crd.getSpec().getVersions().stream()
              .filter(CustomResourceDefinitionVersion::getStorage)
              .findFirst()
              .orElseThrow();
      return new CrdValidator(
          version.getSchema().getOpenAPIV3Schema(),
          crd.getSpec().getGroup() + "/" + version.getName(),
          crd.getSpec().getNames().getKind());
    }
  }

  /**
   * Returns every problem with {@code resource} (an object with apiVersion, kind, metadata, spec),
   * each naming its field path; empty when the API server would accept it.
   */
  List<String> validate(JsonNode resource) {
    JsonNode copy = resource.deepCopy();
    // The API server defaults before it validates: CEL rules see defaulted values.
    applyDefaults(root, copy);
    List<String> problems = new ArrayList<>();
    JsonNode name = copy.path("metadata").path("name");
    if (!name.isTextual()
        || !name.asText().matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
        || name.asText().length() > 253) {
      problems.add("metadata.name: must be a DNS subdomain name, got " + name);
    }
    if (!apiVersion.equals(copy.path("apiVersion").asText())) {
      problems.add("apiVersion: must be " + apiVersion + ", got " + copy.path("apiVersion"));
    }
    if (!kind.equals(copy.path("kind").asText())) {
      problems.add("kind: must be " + kind + ", got " + copy.path("kind"));
    }
    ObjectNode checked = (ObjectNode) copy.deepCopy();
    // Type and object metadata are checked above, not by the CRD's schema; status is the
    // operator's to write.
    checked.remove(List.of("apiVersion", "kind", "metadata", "status"));
    JSONSchemaProps schema = new JSONSchemaProps();
    schema.setType("object");
    schema.setProperties(new LinkedHashMap<>(root.getProperties()));
    schema.getProperties().remove("metadata");
    schema.getProperties().remove("status");
    schema.setRequired(root.getRequired());
    schema.setXKubernetesValidations(root.getXKubernetesValidations());
    check(schema, checked, "", problems);
    return problems;
  }

  private static void applyDefaults(JSONSchemaProps schema, JsonNode value) {
    if (schema == null || value == null) {
      return;
    }
    if (value.isObject() && schema.getProperties() != null) {
      ObjectNode object = (ObjectNode) value;
      schema
          .getProperties()
          .forEach(
              (name, property) -> {
                if (!object.has(name) && property.getDefault() != null) {
                  object.set(name, property.getDefault().deepCopy());
                }
                applyDefaults(property, object.get(name));
              });
    }
    if (value.isObject() && schema.getAdditionalProperties() != null) {
      JSONSchemaProps each = schema.getAdditionalProperties().getSchema();
      value.forEach(v -> applyDefaults(each, v));
    }
    if (value.isArray() && schema.getItems() != null) {
      value.forEach(v -> applyDefaults(schema.getItems().getSchema(), v));
    }
  }

  private void check(JSONSchemaProps schema, JsonNode value, String path, List<String> problems) {
    String at = path.isEmpty() ? "<root>" : path;
    if (value.isNull()) {
      if (!Boolean.TRUE.equals(schema.getNullable())) {
        problems.add(at + ": must not be null");
      }
      return;
    }
    if (Boolean.TRUE.equals(schema.getXKubernetesIntOrString())) {
      if (!value.isIntegralNumber() && !value.isTextual()) {
        problems.add(at + ": must be an integer or a string, got " + value);
        return;
      }
    } else if (schema.getType() != null && !hasType(schema.getType(), value)) {
      problems.add(at + ": must be of type " + schema.getType() + ", got " + value);
      return;
    }
    if (schema.getEnum() != null && !schema.getEnum().isEmpty()) {
      if (schema.getEnum().stream().noneMatch(e -> sameValue(e, value))) {
        problems.add(at + ": unsupported value " + value + ", supported: " + schema.getEnum());
      }
    }
    if (value.isTextual()) {
      String text = value.asText();
      if (schema.getPattern() != null
          && !Pattern.compile(schema.getPattern()).matcher(text).find()) {
        problems.add(at + ": '" + text + "' does not match " + schema.getPattern());
      }
      if (schema.getMinLength() != null && text.length() < schema.getMinLength()) {
        problems.add(at + ": shorter than " + schema.getMinLength());
      }
      if (schema.getMaxLength() != null && text.length() > schema.getMaxLength()) {
        problems.add(at + ": longer than " + schema.getMaxLength());
      }
    }
    if (value.isNumber()) {
      double number = value.asDouble();
      if (schema.getMinimum() != null
          && (number < schema.getMinimum()
              || (Boolean.TRUE.equals(schema.getExclusiveMinimum())
                  && number == schema.getMinimum()))) {
        problems.add(at + ": " + value + " is below the minimum " + schema.getMinimum());
      }
      if (schema.getMaximum() != null
          && (number > schema.getMaximum()
              || (Boolean.TRUE.equals(schema.getExclusiveMaximum())
                  && number == schema.getMaximum()))) {
        problems.add(at + ": " + value + " is above the maximum " + schema.getMaximum());
      }
    }
    if (value.isObject()) {
      checkObject(schema, value, path, problems);
    }
    if (value.isArray()) {
      checkArray(schema, value, path, problems);
    }
    if (schema.getAnyOf() != null && !schema.getAnyOf().isEmpty()) {
      boolean any =
          schema.getAnyOf().stream()
              .anyMatch(
                  option -> {
                    List<String> inner = new ArrayList<>();
                    check(option, value, path, inner);
                    return inner.isEmpty();
                  });
      if (!any) {
        problems.add(at + ": matches none of " + schema.getAnyOf().size() + " alternatives");
      }
    }
    if (schema.getXKubernetesValidations() != null) {
      for (ValidationRule rule : schema.getXKubernetesValidations()) {
        evaluate(rule, schema, value, at, problems);
      }
    }
  }

  private void checkObject(
      JSONSchemaProps schema, JsonNode value, String path, List<String> problems) {
    Map<String, JSONSchemaProps> properties =
        schema.getProperties() == null ? Map.of() : schema.getProperties();
    if (schema.getRequired() != null) {
      for (String required : schema.getRequired()) {
        if (!value.has(required)) {
          problems.add(join(path, required) + ": Required value");
        }
      }
    }
    boolean preserve = Boolean.TRUE.equals(schema.getXKubernetesPreserveUnknownFields());
    JSONSchemaProps additional =
        schema.getAdditionalProperties() == null
            ? null
            : schema.getAdditionalProperties().getSchema();
    boolean additionalAllowed =
        schema.getAdditionalProperties() != null
            && (additional != null
                || Boolean.TRUE.equals(schema.getAdditionalProperties().getAllows()));
    for (Map.Entry<String, JsonNode> field : value.properties()) {
      JSONSchemaProps property = properties.get(field.getKey());
      if (property != null) {
        check(property, field.getValue(), join(path, field.getKey()), problems);
      } else if (additional != null) {
        check(additional, field.getValue(), join(path, field.getKey()), problems);
      } else if (!preserve && !additionalAllowed) {
        // kubectl apply uses strict field validation: the API server rejects unknown fields.
        problems.add(join(path, field.getKey()) + ": unknown field");
      }
    }
    if (schema.getMinProperties() != null && value.size() < schema.getMinProperties()) {
      problems.add(path + ": fewer than " + schema.getMinProperties() + " properties");
    }
    if (schema.getMaxProperties() != null && value.size() > schema.getMaxProperties()) {
      problems.add(path + ": more than " + schema.getMaxProperties() + " properties");
    }
  }

  private void checkArray(
      JSONSchemaProps schema, JsonNode value, String path, List<String> problems) {
    if (schema.getMinItems() != null && value.size() < schema.getMinItems()) {
      problems.add(path + ": fewer than " + schema.getMinItems() + " items");
    }
    if (schema.getMaxItems() != null && value.size() > schema.getMaxItems()) {
      problems.add(path + ": more than " + schema.getMaxItems() + " items");
    }
    if (schema.getItems() != null && schema.getItems().getSchema() != null) {
      for (int i = 0; i < value.size(); i++) {
        check(schema.getItems().getSchema(), value.get(i), path + "[" + i + "]", problems);
      }
    }
    List<String> keys = schema.getXKubernetesListMapKeys();
    if ("map".equals(schema.getXKubernetesListType()) && keys != null) {
      Set<List<JsonNode>> seen = new HashSet<>();
      for (JsonNode item : value) {
        List<JsonNode> key = keys.stream().map(item::get).toList();
        if (!seen.add(key)) {
          problems.add(path + ": duplicate entry with " + keys + " = " + key);
        }
      }
    }
    if ("set".equals(schema.getXKubernetesListType())
        || Boolean.TRUE.equals(schema.getUniqueItems())) {
      Set<JsonNode> seen = new HashSet<>();
      for (JsonNode item : value) {
        if (!seen.add(item)) {
          problems.add(path + ": duplicate item " + item);
        }
      }
    }
  }

  private void evaluate(
      ValidationRule rule,
      JSONSchemaProps schema,
      JsonNode value,
      String at,
      List<String> problems) {
    Object self = toCel(schema, value);
    try {
      CelAbstractSyntaxTree ast = cel.compile(rule.getRule()).getAst();
      Object result = runtime.createProgram(ast).eval(Map.of("self", self, "oldSelf", self));
      if (!Boolean.TRUE.equals(result)) {
        String field = rule.getFieldPath() == null ? "" : rule.getFieldPath();
        problems.add(at + field + ": " + rule.getMessage() + " (rule: " + rule.getRule() + ")");
      }
    } catch (CelValidationException e) {
      throw new IllegalStateException("CEL rule does not compile: " + rule.getRule(), e);
    } catch (CelEvaluationException e) {
      problems.add(at + ": CEL rule failed to evaluate: " + rule.getRule() + ": " + e.getMessage());
    }
  }

  /** Converts a value as the API server presents it to CEL, guided by its schema type. */
  private static Object toCel(JSONSchemaProps schema, JsonNode value) {
    if (value == null || value.isNull()) {
      return dev.cel.common.values.NullValue.NULL_VALUE;
    }
    if (value.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      value
          .properties()
          .forEach(
              f -> map.put(f.getKey(), toCel(propertySchema(schema, f.getKey()), f.getValue())));
      return map;
    }
    if (value.isArray()) {
      JSONSchemaProps items =
          schema == null || schema.getItems() == null ? null : schema.getItems().getSchema();
      List<Object> list = new ArrayList<>();
      value.forEach(v -> list.add(toCel(items, v)));
      return list;
    }
    if (value.isBoolean()) {
      return value.asBoolean();
    }
    if (value.isNumber()) {
      // A number-typed field is a double in CEL even when written as 32; integers are int64.
      boolean number = schema != null && "number".equals(schema.getType());
      return number || !value.isIntegralNumber() ? (Object) value.asDouble() : value.asLong();
    }
    return value.asText();
  }

  private static JSONSchemaProps propertySchema(JSONSchemaProps schema, String name) {
    if (schema == null) {
      return null;
    }
    if (schema.getProperties() != null && schema.getProperties().containsKey(name)) {
      return schema.getProperties().get(name);
    }
    return schema.getAdditionalProperties() == null
        ? null
        : schema.getAdditionalProperties().getSchema();
  }

  private static boolean hasType(String type, JsonNode value) {
    return switch (type) {
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "string" -> value.isTextual();
      case "integer" -> value.isIntegralNumber();
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      default -> true;
    };
  }

  private static boolean sameValue(JsonNode allowed, JsonNode value) {
    return allowed.equals(value)
        || (allowed.isNumber() && value.isNumber() && allowed.asDouble() == value.asDouble());
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /** Reads a resource from a map as parsed from YAML. */
  static JsonNode tree(Object parsed) {
    return JSON.valueToTree(parsed);
  }
}
