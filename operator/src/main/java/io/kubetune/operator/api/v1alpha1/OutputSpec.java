package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Where the adapter and checkpoints are written. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OutputSpec {
  /** Volume for adapters and checkpoints; defaults to the namespace's artifact store PVC. */
  @JsonPropertyDescription(
      "Volume for adapters and checkpoints, mounted at /artifacts; defaults to the namespace's"
          + " artifact store PVC.")
  public Volume volume;

  /** Adapter name recorded with the adapter; defaults to the FineTuneJob name. */
  @JsonPropertyDescription(
      "Name recorded with the adapter and used by AdapterDeployments; defaults to the"
          + " FineTuneJob name.")
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  public String adapterName;

  /** A PersistentVolumeClaim and a folder inside it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Volume {
    /** PersistentVolumeClaim name (ReadWriteMany when serving pods also mount it). */
    @JsonPropertyDescription(
        "PersistentVolumeClaim name; ReadWriteMany when AdapterDeployments also mount it.")
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    public String claimName;

    /** Folder inside the claim. */
    @JsonPropertyDescription("Folder inside the claim; the claim's root when absent.")
    @Pattern("^[^/](.*[^/])?$")
    @Size(max = 1024)
    public String subPath;
  }
}
