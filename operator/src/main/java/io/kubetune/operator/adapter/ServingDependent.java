package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;
import io.javaoperatorsdk.operator.processing.dependent.Updater;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;

/**
 * A serving object owned by an AdapterDeployment and compared by a hash of what the operator wants,
 * kept in an annotation. Comparing the hash instead of the live object ignores fields the API
 * server defaults, so an unchanged spec never causes an update (and never a pod restart).
 */
abstract class ServingDependent<R extends HasMetadata>
    extends KubernetesDependentResource<R, AdapterDeployment>
    implements Creator<R, AdapterDeployment>,
        Updater<R, AdapterDeployment>,
        GarbageCollected<AdapterDeployment> {

  /** Annotation holding the hash of the desired object. */
  static final String HASH = "kubetune.io/desired-hash";

  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  ServingDependent(Class<R> type) {
    super(type);
  }

  /** The object the operator wants, without the hash annotation. */
  abstract R build(AdapterDeployment primary, AdapterDeploymentSettings settings);

  @Override
  protected R desired(AdapterDeployment primary, Context<AdapterDeployment> context) {
    R desired = build(primary, AdapterContext.of(context).settings());
    Map<String, String> annotations = new HashMap<>();
    if (desired.getMetadata().getAnnotations() != null) {
      annotations.putAll(desired.getMetadata().getAnnotations());
    }
    annotations.put(HASH, hash(desired));
    desired.getMetadata().setAnnotations(annotations);
    return desired;
  }

  @Override
  public Matcher.Result<R> match(
      R actual, AdapterDeployment primary, Context<AdapterDeployment> context) {
    R desired = desired(primary, context);
    Map<String, String> annotations = actual.getMetadata().getAnnotations();
    String actualHash = annotations == null ? null : annotations.get(HASH);
    return Matcher.Result.computed(
        Objects.equals(actualHash, desired.getMetadata().getAnnotations().get(HASH)), desired);
  }

  @Override
  public R update(
      R actual, R desired, AdapterDeployment primary, Context<AdapterDeployment> context) {
    // Keep the live object's identity and everything others own (status, other annotations);
    // replace what the operator owns.
    R next = JSON.clone(desired);
    next.getMetadata().setResourceVersion(actual.getMetadata().getResourceVersion());
    Map<String, String> annotations = new HashMap<>();
    if (actual.getMetadata().getAnnotations() != null) {
      annotations.putAll(actual.getMetadata().getAnnotations());
    }
    annotations.putAll(desired.getMetadata().getAnnotations());
    next.getMetadata().setAnnotations(annotations);
    next.getMetadata().setOwnerReferences(actual.getMetadata().getOwnerReferences());
    return context.getClient().resource(next).update();
  }

  static String hash(HasMetadata object) {
    try {
      byte[] json = JSON.asJson(object).getBytes(StandardCharsets.UTF_8);
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(json))
          .substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}
