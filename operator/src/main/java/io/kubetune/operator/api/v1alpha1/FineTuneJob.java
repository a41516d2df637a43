package io.kubetune.operator.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.PrinterColumnFormat;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Fine-tunes a base model on a dataset and writes a PEFT adapter to the artifact store. The
 * operator validates the spec and the dataset before it requests any GPU.
 */
@Group(FineTuneJob.GROUP)
@Version(FineTuneJob.VERSION)
@ShortNames("ftj")
@Categories("kubetune")
@AdditionalPrinterColumn(
    name = "PHASE",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "PROGRESS",
    jsonPath = ".status.progress.percent",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "TRAIN-LOSS",
    jsonPath = ".status.metrics.trainLoss",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "VALID-LOSS",
    jsonPath = ".status.metrics.validLoss",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "AGE",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE,
    format = PrinterColumnFormat.NONE)
public class FineTuneJob extends CustomResource<FineTuneJobSpec, FineTuneJobStatus>
    implements Namespaced {
  /** The API group of all kubetune resources. */
  public static final String GROUP = "kubetune.io";

  /** The API version of this package. */
  public static final String VERSION = "v1alpha1";

  @Override
  protected FineTuneJobStatus initStatus() {
    return new FineTuneJobStatus();
  }
}
