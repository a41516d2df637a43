package io.kubetune.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed of the serving pods and their adapters. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AdapterDeploymentStatus {
  /** The spec generation this status describes. */
  @JsonPropertyDescription("The metadata.generation this status describes.")
  public Long observedGeneration;

  /** Serving pods. */
  @JsonPropertyDescription("Serving pods that exist.")
  public Integer replicas;

  /** Ready serving pods. */
  @JsonPropertyDescription("Serving pods that are ready.")
  public Integer readyReplicas;

  /** In-cluster inference URL. */
  @JsonPropertyDescription("In-cluster inference URL (the Service).")
  public String url;

  /** Ready, Reconciling, Stalled, BaseModelReady, AdaptersReady, Degraded. */
  @JsonPropertyDescription(
      "kstatus Ready/Reconciling/Stalled plus BaseModelReady, AdaptersReady and Degraded.")
  public List<Condition> conditions = new ArrayList<>();

  /** Per-adapter state. */
  @JsonPropertyDescription("Per-adapter load state across the ready pods.")
  public List<AdapterState> adapters;

  /** Loaded adapters out of enabled ones, such as 12/12. */
  @JsonPropertyDescription("Enabled adapters loaded on every ready pod, out of all enabled.")
  public String loadedAdapters;

  /** Adapter load phases. */
  public enum AdapterPhase {
    Pending,
    Staging,
    Loaded,
    Failed
  }

  /** One adapter's state. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AdapterState {
    /** Adapter name. */
    @JsonPropertyDescription("Adapter name.")
    public String name;

    /** Load phase. */
    @JsonPropertyDescription("Pending, Staging, Loaded or Failed.")
    public AdapterPhase phase;

    /** Ready pods that have it loaded. */
    @JsonPropertyDescription("Ready pods that have it loaded.")
    public Integer loadedReplicas;

    /** Ready pods that should have it loaded. */
    @JsonPropertyDescription("Ready pods that should have it loaded.")
    public Integer desiredReplicas;

    /** Whether it is pinned. */
    @JsonPropertyDescription("Whether it is pinned in a GPU slot.")
    public Boolean pinned;

    /** Digest of the files served under servedName. */
    @JsonPropertyDescription(
        "sha256 digest of the adapter files served under servedName. During a rollout of a new"
            + " version it stays the old version's digest until the new one is loaded on every"
            + " ready pod.")
    public String digest;

    /** The name to pass in requests ("adapters": servedName) to reach this adapter. */
    @JsonPropertyDescription(
        "Name to pass in inference requests (\"adapters\": servedName). The first version is"
            + " served under the adapter's name; a new version (changed digest) under"
            + " <name>-<first 8 hex of its digest>, switched here once it is loaded on every ready"
            + " pod.")
    public String servedName;

    /** Why the adapter is in its phase (CamelCase). */
    @JsonPropertyDescription(
        "Why the adapter is in its phase, such as Loaded, WaitingForFineTuneJob, RankTooHigh or"
            + " NoFreeLoraSlots.")
    public String reason;

    /** When it was last loaded. */
    @JsonPropertyDescription("When it was last loaded (RFC 3339).")
    public String lastLoadTime;

    /** Seconds the last load took. */
    @JsonPropertyDescription("Seconds the last load took.")
    public Double loadSeconds;

    /** Why it is not loaded, when it is not. */
    @JsonPropertyDescription("Why it is not loaded, when it is not.")
    public String message;
  }
}
