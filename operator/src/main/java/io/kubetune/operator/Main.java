package io.kubetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.kubetune.operator.adapter.AdapterDeploymentReconciler;
import io.kubetune.operator.adapter.AdapterDeploymentSettings;
import io.kubetune.operator.finetune.FineTuneJobReconciler;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import io.kubetune.operator.runtime.OperatorRuntime;
import io.kubetune.operator.runtime.OperatorSettings;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The operator's entry point: {@code java -jar kubetune-operator.jar}. Connects with the user's
 * kubeconfig or, inside a pod, the service account.
 */
public final class Main {

  /** System property read by logback.xml to pick the appender. */
  static final String LOG_FORMAT_PROPERTY = "kubetune.log.format";

  private Main() {}

  /** Starts the operator and keeps it running until the JVM is asked to stop. */
  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    OperatorSettings settings;
    try {
      settings = OperatorSettings.fromEnv(env);
    } catch (IllegalArgumentException e) {
      exitInvalidConfiguration(e);
      return;
    }
    // Must happen before the first logger is created: logback reads it while configuring.
    System.setProperty(LOG_FORMAT_PROPERTY, settings.logFormat().name().toLowerCase(Locale.ROOT));

    List<Reconciler<?>> reconcilers;
    try {
      reconcilers = reconcilers(settings, env);
    } catch (IllegalArgumentException e) {
      // The reconcilers' own settings (trainer image, serving image, artifact store ...).
      exitInvalidConfiguration(e);
      return;
    }

    KubernetesClient client = new KubernetesClientBuilder().build();
    OperatorRuntime runtime;
    try {
      runtime = OperatorRuntime.start(settings, client, reconcilers);
    } catch (RuntimeException e) {
      LoggerFactory.getLogger(Main.class).error("operator failed to start", e);
      client.close();
      System.exit(1);
      return;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  runtime.close();
                  client.close();
                },
                "kubetune-shutdown"));
  }

  /**
   * Returns the reconcilers this process runs. Every reconciler of the operator is listed here and
   * nowhere else, so tests and production register the same set.
   */
  static List<Reconciler<?>> reconcilers(OperatorSettings settings, Map<String, String> env) {
    return List.of(
        new FineTuneJobReconciler(FineTuneJobSettings.fromEnv(env)),
        new AdapterDeploymentReconciler(AdapterDeploymentSettings.fromEnv(env)));
  }

  /**
   * Reports a bad setting on stderr and exits 2. Plain stderr because logging may not be configured
   * yet (its format is one of the settings).
   */
  private static void exitInvalidConfiguration(IllegalArgumentException e) {
    System.err.println("kubetune-operator: invalid configuration: " + e.getMessage());
    System.exit(2);
  }
}
