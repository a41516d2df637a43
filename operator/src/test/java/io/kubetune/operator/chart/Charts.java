package io.kubetune.operator.chart;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Renders the kubetune chart with helm-java and parses what it renders into Kubernetes types. */
final class Charts {
  /** The chart, from the operator module's working directory (the build runs tests there). */
  static final Path CHART = repositoryRoot().resolve("charts").resolve("kubetune");

  static final String RELEASE = "kt";
  static final String NAMESPACE = "kubetune-system";

  /** A Kubernetes version the chart supports (helm template defaults to an old one). */
  static final String KUBE_VERSION = "1.31.0";

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private Charts() {}

  /** Returns the repository root: the parent of the module the tests run in. */
  static Path repositoryRoot() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("charts")) ? here : here.getParent();
  }

  /** Renders the chart with {@code values} set like {@code --set key=value}. */
  static String render(Map<String, Object> values) {
    TemplateCommand template =
        new Helm(CHART)
            .template()
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .withKubeVersion(KUBE_VERSION);
    values.forEach(template::set);
    return template.call();
  }

  /** Renders the chart and parses every document into its fabric8 type. */
  static List<HasMetadata> objects(Map<String, Object> values) {
    return parse(render(values));
  }

  /** Parses a multi-document YAML stream into fabric8 types. */
  static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> result = new ArrayList<>();
    for (String document : yaml.split("(?m)^---\\s*$")) {
      if (document.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
        continue;
      }
      KubernetesResource parsed = SERIALIZATION.unmarshal(document);
      if (parsed instanceof HasMetadata object) {
        result.add(object);
      } else {
        throw new AssertionError("not a Kubernetes object: " + document);
      }
    }
    return result;
  }

  /** Returns the objects of {@code type}. */
  static <T extends HasMetadata> List<T> ofType(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }
}
