package io.kubetune.operator.adapter;

import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.LoraServingSpec;
import io.kubetune.operator.api.v1alpha1.ModelSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks an AdapterDeployment spec the way the CRD's schema and CEL rules do, so that a spec the
 * API server did not check (an old CRD, a test server) still gets a condition naming the field and
 * the fix instead of a broken Deployment.
 */
public final class AdapterDeploymentValidator {

  /**
   * One problem.
   *
   * @param field JSON path of the field, such as spec.lora.maxLoraRank
   * @param message what is wrong and how to fix it
   * @param blocksServing true when no Deployment can be rendered (serving config problems); false
   *     for problems confined to one adapter entry
   */
  public record Problem(String field, String message, boolean blocksServing) {
    @Override
    public String toString() {
      return field + ": " + message;
    }
  }

  private static final Pattern MODEL_URI = Pattern.compile(ModelSource.URI_PATTERN);
  private static final Pattern ADAPTER_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$");
  private static final Pattern PROPERTY = Pattern.compile("^option\\.[A-Za-z0-9_.-]+$");

  private AdapterDeploymentValidator() {}

  /** Returns the problems of {@code ad}'s spec, empty when it is valid. */
  public static List<Problem> validate(AdapterDeployment ad) {
    List<Problem> out = new ArrayList<>();
    AdapterDeploymentSpec spec = ad.getSpec();
    if (spec == null) {
      out.add(new Problem("spec", "missing; set spec.baseModel.uri", true));
      return out;
    }
    if (spec.baseModel == null || spec.baseModel.uri == null) {
      out.add(
          new Problem(
              "spec.baseModel.uri", "missing; set hf://org/name or pvc://claim/path", true));
    } else if (!MODEL_URI.matcher(spec.baseModel.uri).matches()) {
      out.add(
          new Problem(
              "spec.baseModel.uri",
              "'" + spec.baseModel.uri + "' is not hf://org/name or pvc://claim/path",
              true));
    }
    if (spec.replicas != null && (spec.replicas < 0 || spec.replicas > 64)) {
      out.add(new Problem("spec.replicas", spec.replicas + " is not within 0..64", true));
    }
    LoraServingSpec lora = spec.lora == null ? new LoraServingSpec() : spec.lora;
    if (lora.maxLoraRank == null
        || !LoraServingSpec.ALLOWED_MAX_LORA_RANKS.contains(lora.maxLoraRank)) {
      out.add(
          new Problem(
              "spec.lora.maxLoraRank",
              lora.maxLoraRank
                  + " is not a rank vLLM accepts; use one of "
                  + LoraServingSpec.ALLOWED_MAX_LORA_RANKS
                  + " at least as large as your adapters' r",
              true));
    }
    if (lora.maxLoras == null || lora.maxLoras < 1 || lora.maxLoras > 256) {
      out.add(new Problem("spec.lora.maxLoras", lora.maxLoras + " is not within 1..256", true));
    } else if (lora.maxCpuLoras != null && lora.maxCpuLoras < lora.maxLoras) {
      out.add(
          new Problem(
              "spec.lora.maxCpuLoras",
              lora.maxCpuLoras
                  + " is smaller than maxLoras ("
                  + lora.maxLoras
                  + "); set it to at least maxLoras or remove it",
              true));
    }
    if (spec.serving != null && spec.serving.properties != null) {
      for (String key : spec.serving.properties.keySet()) {
        if (!PROPERTY.matcher(key).matches()) {
          out.add(
              new Problem(
                  "spec.serving.properties." + key,
                  "only option.* properties pass through (as OPTION_* variables); set server"
                      + " settings as SERVING_* variables in spec.serving.env",
                  true));
        }
      }
    }
    Set<String> names = new HashSet<>();
    List<AdapterEntry> adapters = spec.adapters == null ? List.of() : spec.adapters;
    for (int i = 0; i < adapters.size(); i++) {
      AdapterEntry a = adapters.get(i);
      String field = "spec.adapters[" + i + "]";
      if (a == null || a.name == null || !ADAPTER_NAME.matcher(a.name).matches()) {
        out.add(
            new Problem(
                field + ".name",
                "'"
                    + (a == null ? null : a.name)
                    + "' must be lower-case letters, digits, '-', '_' or '.' (at most 63)",
                false));
        continue;
      }
      if (a.name.length() > 63) {
        out.add(new Problem(field + ".name", "longer than 63 characters", false));
      }
      if (!names.add(a.name)) {
        out.add(
            new Problem(
                field + ".name",
                "adapter '" + a.name + "' is listed twice; remove or rename one entry",
                false));
      }
      boolean job = a.source != null && a.source.fineTuneJobRef != null;
      boolean path = a.source != null && a.source.path != null;
      if (job == path) {
        out.add(
            new Problem(
                field + ".source",
                "set exactly one of fineTuneJobRef or path (pvc://<artifact store>/adapters/...)",
                false));
      } else if (job
          && (a.source.fineTuneJobRef.name == null || a.source.fineTuneJobRef.name.isBlank())) {
        out.add(new Problem(field + ".source.fineTuneJobRef.name", "missing", false));
      }
    }
    return out;
  }

  /** Returns the names of adapters whose entry has a problem (they are not loaded). */
  static Set<String> invalidAdapterIndexes(List<Problem> problems) {
    Set<String> out = new HashSet<>();
    for (Problem p : problems) {
      if (p.field().startsWith("spec.adapters[")) {
        out.add(p.field().substring(0, p.field().indexOf(']') + 1));
      }
    }
    return out;
  }
}
