package io.kubetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import java.util.function.Consumer;

/**
 * The one place the operator's JOSDK configuration is chosen. Production ({@code Main}) and every
 * test start the operator through {@link #newOperator}, so tests exercise the production
 * configuration.
 */
public final class OperatorBootstrap {

  private OperatorBootstrap() {}

  /**
   * Applies kubetune's JOSDK settings.
   *
   * <p>Server-side apply is off for the primary status patch and for dependent matching: the
   * operator patches status with JSON merge patches and compares dependents itself. This keeps one
   * code path for real API servers and for fabric8's mock server (which lacks server-side apply),
   * and it means the operator never takes field ownership of what users wrote (no GitOps drift).
   */
  public static ConfigurationServiceOverrider configure(
      ConfigurationServiceOverrider overrider, KubernetesClient client) {
    return overrider
        .withKubernetesClient(client)
        .withUseSSAToPatchPrimaryResource(false)
        .withSSABasedCreateUpdateMatchForDependentResources(false)
        .withCloseClientOnStop(false);
  }

  /** Creates an operator with kubetune's settings plus {@code extra} (metrics, leader election). */
  public static Operator newOperator(
      KubernetesClient client, Consumer<ConfigurationServiceOverrider> extra) {
    return new Operator(
        o -> {
          configure(o, client);
          extra.accept(o);
        });
  }

  /** Creates an operator with kubetune's settings. */
  public static Operator newOperator(KubernetesClient client) {
    return newOperator(client, o -> {});
  }
}
