package io.kubetune.operator.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Serves one base model with DJL Serving and hot-loads many LoRA adapters onto it; changing the
 * adapter list never restarts serving pods.
 */
@Group(FineTuneJob.GROUP)
@Version(FineTuneJob.VERSION)
@ShortNames("ad")
@Categories("kubetune")
@AdditionalPrinterColumn(
    name = "READY",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "REPLICAS",
    jsonPath = ".status.readyReplicas",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "LOADED",
    jsonPath = ".status.loadedAdapters",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "AGE",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class AdapterDeployment
    extends CustomResource<AdapterDeploymentSpec, AdapterDeploymentStatus> implements Namespaced {
  @Override
  protected AdapterDeploymentStatus initStatus() {
    return new AdapterDeploymentStatus();
  }
}
