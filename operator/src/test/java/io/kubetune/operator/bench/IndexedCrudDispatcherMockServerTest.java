package io.kubetune.operator.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.finetune.FineTuneJobs;
import io.kubetune.operator.testing.GeneratedCrds;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The benchmark's indexed API server answers exactly as fabric8's stock CRUD dispatcher does. */
class IndexedCrudDispatcherMockServerTest {

  @Test
  void sameAnswersAsTheStockDispatcher() throws Exception {
    assertEquals(scenario(new KubernetesCrudDispatcher()), scenario(new IndexedCrudDispatcher()));
  }

  @Test
  void countsRequestsByClientVerbAndResource() throws Exception {
    IndexedCrudDispatcher dispatcher = new IndexedCrudDispatcher();
    scenario(dispatcher);
    // Three creates and the refused duplicate.
    assertEquals(4L, dispatcher.requestCounts().get("operator POST configmaps"));
    assertEquals(1L, dispatcher.requestCounts().get("operator PATCH finetunejobs/status"));
  }

  /** Runs one sequence of requests and returns what a client observed, as text. */
  private static List<String> scenario(KubernetesCrudDispatcher dispatcher) throws Exception {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    List<String> seen = new ArrayList<>();
    try (KubernetesClient client = server.createClient()) {
      GeneratedCrds.register(client);
      List<String> events = new CopyOnWriteArrayList<>();
      var watch =
          client
              .configMaps()
              .inNamespace("a")
              .withLabel("app", "x")
              .watch(
                  new Watcher<ConfigMap>() {
                    @Override
                    public void eventReceived(Action action, ConfigMap cm) {
                      events.add(action + " " + cm.getMetadata().getName());
                    }

                    @Override
                    public void onClose(WatcherException cause) {}
                  });
      client.resource(cm("a", "one", "x")).create();
      client.resource(cm("a", "two", "y")).create();
      client.resource(cm("b", "one", "x")).create();
      try {
        client.resource(cm("a", "one", "x")).create();
        seen.add("duplicate create accepted");
      } catch (KubernetesClientException e) {
        seen.add("duplicate create " + e.getCode());
      }
      seen.add(
          "get a/one "
              + names(List.of(client.configMaps().inNamespace("a").withName("one").get())));
      seen.add("get a/none " + client.configMaps().inNamespace("a").withName("none").get());
      seen.add("list a " + names(client.configMaps().inNamespace("a").list().getItems()));
      seen.add("list all " + names(client.configMaps().inAnyNamespace().list().getItems()));
      seen.add(
          "list app=x "
              + names(
                  client.configMaps().inAnyNamespace().withLabel("app", "x").list().getItems()));
      seen.add("list c " + names(client.configMaps().inNamespace("c").list().getItems()));

      ConfigMap one = client.configMaps().inNamespace("a").withName("one").get();
      one.getData().put("k", "v2");
      client.resource(one).update();
      try {
        client.resource(one).update();
        seen.add("stale update accepted");
      } catch (KubernetesClientException e) {
        seen.add("stale update " + e.getCode());
      }
      seen.add(
          "after update " + client.configMaps().inNamespace("a").withName("one").get().getData());

      FineTuneJob job = client.resource(FineTuneJobs.lora("a", "job").build()).create();
      job.setStatus(new FineTuneJobStatus());
      job.getStatus().phase = FineTuneJobStatus.Phase.Running;
      client.resource(job).patchStatus();
      FineTuneJob read = client.resources(FineTuneJob.class).inNamespace("a").withName("job").get();
      seen.add(
          "status " + read.getStatus().phase + " generation " + read.getMetadata().getGeneration());

      client.configMaps().inNamespace("a").withName("one").delete();
      assertNull(client.configMaps().inNamespace("a").withName("one").get());
      seen.add("after delete " + names(client.configMaps().inAnyNamespace().list().getItems()));

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (events.size() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      watch.close();
      seen.add("watch " + events);
    } finally {
      server.destroy();
    }
    return seen;
  }

  private static ConfigMap cm(String ns, String name, String app) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace(ns)
        .withName(name)
        .addToLabels("app", app)
        .endMetadata()
        .addToData("k", "v")
        .build();
  }

  private static List<String> names(List<? extends HasMetadata> items) {
    return items.stream()
        .map(i -> i.getMetadata().getNamespace() + "/" + i.getMetadata().getName())
        .sorted()
        .toList();
  }
}
