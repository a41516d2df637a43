package io.kubetune.operator.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import org.junit.jupiter.api.Test;

class PrunedCachesTest {

  @Test
  void cachedJobKeepsWhatTheReconcilerReadsAndDropsThePodTemplate() {
    Job job =
        new JobBuilder()
            .withNewMetadata()
            .withName("j-trainer")
            .withNamespace("ns")
            .withResourceVersion("7")
            .addToLabels(Labels.COMPONENT, Labels.TRAINER)
            .addToAnnotations(Labels.VALIDATED_GENERATION, "2")
            .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").build())
            .endMetadata()
            .withNewSpec()
            .withSuspend(true)
            .withActiveDeadlineSeconds(600L)
            .withBackoffLimit(3)
            .withNewTemplate()
            .withNewSpec()
            .addNewContainer()
            .withName("trainer")
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec()
            .withNewStatus()
            .withActive(1)
            .endStatus()
            .build();

    PrunedCaches.JobStore store = new PrunedCaches.JobStore();
    store.put(store.getKey(job), job);
    Job cached = store.get("ns/j-trainer");

    assertEquals("7", cached.getMetadata().getResourceVersion());
    assertEquals("2", cached.getMetadata().getAnnotations().get(Labels.VALIDATED_GENERATION));
    assertEquals(Labels.TRAINER, cached.getMetadata().getLabels().get(Labels.COMPONENT));
    assertTrue(cached.getMetadata().getManagedFields().isEmpty());
    assertEquals(true, cached.getSpec().getSuspend());
    assertEquals(600L, cached.getSpec().getActiveDeadlineSeconds());
    assertEquals(3, cached.getSpec().getBackoffLimit());
    assertNull(cached.getSpec().getTemplate());
    assertSame(job.getStatus(), cached.getStatus());
    // The object handed to event handlers is not touched.
    assertEquals("trainer", job.getSpec().getTemplate().getSpec().getContainers().get(0).getName());
    assertEquals(1, job.getMetadata().getManagedFields().size());
  }

  @Test
  void cachedPodKeepsMetadataAndStatusOnly() {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("p")
            .withNamespace("ns")
            .endMetadata()
            .withNewSpec()
            .withNodeName("node-1")
            .endSpec()
            .withNewStatus()
            .withPhase("Pending")
            .endStatus()
            .build();

    PrunedCaches.PodStore store = new PrunedCaches.PodStore();
    store.put(store.getKey(pod), pod);
    Pod cached = store.get("ns/p");

    assertEquals("Pending", cached.getStatus().getPhase());
    assertNull(cached.getSpec());
    assertEquals("node-1", pod.getSpec().getNodeName());
  }
}
