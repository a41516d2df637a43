package io.kubetune.operator.api.v1alpha1;

import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;

/**
 * Marks array properties as list-maps so that Kubernetes merges them by key (and rejects duplicate
 * keys). Input: {@code property:key}. Used by the CRD generator at build time only; fabric8's merge
 * patch customizer replaces sibling properties, so this sets the two fields in place instead.
 */
public final class ListMapCustomizer implements SchemaCustomizer.Customizer {
  /** Instantiated reflectively by the CRD generator. */
  public ListMapCustomizer() {}

  @Override
  public JSONSchemaProps apply(
      JSONSchemaProps props, String input, KubernetesSerialization serialization) {
    String[] parts = input.split(":", 2);
    JSONSchemaProps list = props.getProperties().get(parts[0]);
    if (list == null) {
      throw new IllegalArgumentException("no property " + parts[0] + " to mark as list-map");
    }
    list.setXKubernetesListType("map");
    list.setXKubernetesListMapKeys(List.of(parts[1]));
    return props;
  }
}
