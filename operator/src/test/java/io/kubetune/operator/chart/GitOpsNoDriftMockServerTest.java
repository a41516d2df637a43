package io.kubetune.operator.chart;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.adapter.AdapterDeploymentReconciler;
import io.kubetune.operator.adapter.AdapterDeploymentSettings;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.finetune.FineTuneJobReconciler;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Argo CD stays in sync only if the operator never rewrites what the user wrote: every FineTuneJob
 * and AdapterDeployment example is applied, the real reconcilers run until they have written
 * status, and spec, labels and annotations must be exactly as applied (generation still 1: no spec
 * write happened) with no finalizer added.
 */
@EnableKubernetesMockClient(crud = true)
class GitOpsNoDriftMockServerTest {

  static KubernetesClient client;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void reconcilingAnExampleNeverChangesWhatTheUserWrote() throws Exception {
    registerCrds();
    List<FineTuneJob> applied = new ArrayList<>();
    List<AdapterDeployment> deployments = new ArrayList<>();
    for (ExamplesTest.Document document : ExamplesTest.documents().toList()) {
      String ns =
          document.node().path("metadata").path("namespace").asText("gitops-" + applied.size());
      if (document.kind().equals("ConfigMap")) {
        ConfigMap map = JSON.treeToValue(document.node(), ConfigMap.class);
        client.configMaps().inNamespace(ns).resource(map).create();
      } else if (document.kind().equals("FineTuneJob")) {
        FineTuneJob job = JSON.treeToValue(document.node(), FineTuneJob.class);
        job.getMetadata().setNamespace(ns);
        client.resource(job).create();
        applied.add(job);
      } else if (document.kind().equals("AdapterDeployment")) {
        AdapterDeployment ad = JSON.treeToValue(document.node(), AdapterDeployment.class);
        ad.getMetadata().setNamespace(ns);
        client.resource(ad).create();
        deployments.add(ad);
      }
    }
    assertTrue(applied.size() >= 6, "FineTuneJob examples: " + applied.size());
    assertTrue(deployments.size() >= 1, "AdapterDeployment examples: " + deployments.size());

    Operator operator = OperatorBootstrap.newOperator(client);
    operator.register(new FineTuneJobReconciler(FineTuneJobSettings.defaults()));
    operator.register(new AdapterDeploymentReconciler(AdapterDeploymentSettings.defaults()));
    operator.start();
    try {
      for (FineTuneJob job : applied) {
        String ns = job.getMetadata().getNamespace();
        String name = job.getMetadata().getName();
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  FineTuneJob live = live(ns, name);
                  return live.getStatus() != null
                      && live.getStatus().observedGeneration != null
                      && live.getStatus().phase != null;
                });
        FineTuneJob live = live(ns, name);
        assertUntouched(job, job.getSpec(), live, live.getSpec());
        assertFalse(live.getStatus().conditions.isEmpty(), ns + "/" + name + ": not reconciled");
      }
      for (AdapterDeployment ad : deployments) {
        String ns = ad.getMetadata().getNamespace();
        String name = ad.getMetadata().getName();
        // One reconcile is enough: it runs the workflow (Deployment, Service, NetworkPolicy) and
        // writes status; adapters stay unloaded without serving pods, which is not checked here.
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  AdapterDeployment live = liveAd(ns, name);
                  return live.getStatus() != null
                      && live.getStatus().observedGeneration != null
                      && !live.getStatus().conditions.isEmpty();
                });
        AdapterDeployment live = liveAd(ns, name);
        assertUntouched(ad, ad.getSpec(), live, live.getSpec());
        assertFalse(
            client.apps().deployments().inNamespace(ns).list().getItems().isEmpty(),
            ns + "/" + name + ": the workflow did not run");
      }
    } finally {
      operator.stop();
    }
  }

  private static FineTuneJob live(String ns, String name) {
    return client.resources(FineTuneJob.class).inNamespace(ns).withName(name).get();
  }

  private static AdapterDeployment liveAd(String ns, String name) {
    return client.resources(AdapterDeployment.class).inNamespace(ns).withName(name).get();
  }

  private static void assertUntouched(
      HasMetadata applied, Object appliedSpec, HasMetadata live, Object liveSpec) {
    String what = live.getKind() + " " + live.getMetadata().getNamespace() + "/";
    what += live.getMetadata().getName();
    assertEquals(tree(appliedSpec), tree(liveSpec), what + ": spec changed");
    assertEquals(1L, live.getMetadata().getGeneration(), what + ": spec was written");
    assertEquals(applied.getMetadata().getLabels(), live.getMetadata().getLabels(), what);
    assertEquals(applied.getMetadata().getAnnotations(), live.getMetadata().getAnnotations(), what);
    assertTrue(
        live.getMetadata().getFinalizers() == null || live.getMetadata().getFinalizers().isEmpty(),
        what + ": finalizers " + live.getMetadata().getFinalizers());
  }

  private static JsonNode tree(Object value) {
    return JSON.valueToTree(value);
  }

  private static void registerCrds() throws IOException {
    for (String plural : List.of("finetunejobs", "adapterdeployments")) {
      try (InputStream in =
          Files.newInputStream(
              Charts.repositoryRoot().resolve("crds").resolve(plural + ".kubetune.io-v1.yml"))) {
        CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      }
    }
  }
}
