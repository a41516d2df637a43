package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** One JSONL file of examples: exactly one of uri, configMapRef or inline. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "[has(self.uri), has(self.configMapRef), has(self.inline)].filter(x, x).size() == 1",
    message = "set exactly one of uri, configMapRef or inline")
public class DataSource {
  /** URI pattern accepted for datasets. */
  public static final String URI_PATTERN =
      "^(hf://[A-Za-z0-9][-A-Za-z0-9_.]*/[-A-Za-z0-9_.]+(/.+)?|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/[^/].*)$";

  /** A JSONL file: pvc://claim/path/file.jsonl or hf://org/dataset/path/file.jsonl. */
  @JsonPropertyDescription(
      "A JSONL file: pvc://claim/path/file.jsonl (mounted read-only) or"
          + " hf://org/dataset[/path.jsonl] (downloaded by the trainer).")
  @Pattern(URI_PATTERN)
  @Size(max = 1024)
  public String uri;

  /** A ConfigMap key holding the JSONL (for small datasets, up to about 1 MiB). */
  @JsonPropertyDescription(
      "A ConfigMap key holding the JSONL, for small datasets (ConfigMaps hold at most 1 MiB).")
  public ConfigMapKeyRef configMapRef;

  /** The JSONL itself, for tiny datasets and experiments. */
  @JsonPropertyDescription("The JSONL itself, one example per line, for tiny datasets.")
  @Size(max = 262144)
  public String inline;

  public DataSource() {}

  /** A dataset at a URI. */
  public static DataSource ofUri(String uri) {
    DataSource d = new DataSource();
    d.uri = uri;
    return d;
  }

  /** A dataset inline in the spec. */
  public static DataSource ofInline(String jsonl) {
    DataSource d = new DataSource();
    d.inline = jsonl;
    return d;
  }

  /** A dataset in a ConfigMap key. */
  public static DataSource ofConfigMap(String name, String key) {
    DataSource d = new DataSource();
    d.configMapRef = new ConfigMapKeyRef(name, key);
    return d;
  }
}
