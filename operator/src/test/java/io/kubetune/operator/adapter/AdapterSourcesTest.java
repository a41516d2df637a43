package io.kubetune.operator.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubetune.contract.AdapterInfo;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AdapterSourcesTest {

  @Test
  void aJobThatWroteAFullModelIsRefusedWithTheReasonAndTheFix() {
    FineTuneJob job = new FineTuneJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("full-ft").build());
    FineTuneJobStatus status = new FineTuneJobStatus();
    status.phase = FineTuneJobStatus.Phase.Succeeded;
    status.adapter = new FineTuneJobStatus.Adapter();
    status.adapter.path = "pvc://kubetune-artifacts/adapters/full-ft";
    status.adapter.digest = "sha256:" + "ab".repeat(32);
    status.adapter.kind = AdapterInfo.KIND_MODEL;
    job.setStatus(status);

    AdapterSources sources = new AdapterSources(AdapterDeploymentSettings.defaults());
    AdapterDeployment ad = AdapterDeployments.of("ns", "ad").job("a", "full-ft").build();
    List<AdapterSources.Resolved> resolved =
        sources.resolve(
            ad,
            name -> name.equals("full-ft") ? job : null,
            Set.of(),
            sources.checkRound(ad, List.of(), List.of(), Instant.now()));

    AdapterSources.Blocked blocked =
        assertInstanceOf(AdapterSources.Blocked.class, resolved.get(0));
    assertTrue(blocked.failed());
    assertEquals(AdapterSources.Reasons.JOB_MADE_A_MODEL, blocked.reason());
    assertTrue(blocked.message().contains("not a LoRA adapter"), blocked.message());
  }
}
