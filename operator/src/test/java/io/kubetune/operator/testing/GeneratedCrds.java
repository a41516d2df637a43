package io.kubetune.operator.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Registers the CRDs the build generated on a (mock) API server, so the status subresource and the
 * schema are known before the operator starts.
 */
public final class GeneratedCrds {

  private GeneratedCrds() {}

  /** Creates or updates the FineTuneJob and AdapterDeployment CRDs. */
  public static void register(KubernetesClient client) {
    for (String plural : new String[] {"finetunejobs", "adapterdeployments"}) {
      try (InputStream in =
          GeneratedCrds.class.getResourceAsStream(
              "/META-INF/fabric8/" + plural + ".kubetune.io-v1.yml")) {
        if (in == null) {
          throw new IllegalStateException(
              "generated CRD " + plural + " missing: run the build's process-classes phase");
        }
        CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .resource(crd)
            .createOr(r -> r.update());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
