package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import java.net.HttpURLConnection;
import java.util.Map;
import java.util.Optional;

/**
 * The namespace's artifact store PVC, created when absent. It is shared by every FineTuneJob and
 * AdapterDeployment of the namespace and holds the adapters users keep, so it has no owner and is
 * never deleted by the operator.
 */
@KubernetesDependent
public class ArtifactStoreDependent
    extends KubernetesDependentResource<PersistentVolumeClaim, FineTuneJob>
    implements Creator<PersistentVolumeClaim, FineTuneJob> {

  public ArtifactStoreDependent() {
    super(PersistentVolumeClaim.class);
  }

  /** The name is known without rendering the whole object (and without a valid spec). */
  @Override
  protected ResourceID targetSecondaryResourceID(FineTuneJob job, Context<FineTuneJob> context) {
    return new ResourceID(
        FineTuneContext.of(context).settings().artifactClaimName(),
        job.getMetadata().getNamespace());
  }

  /**
   * Looks the claim up by name in the informer cache. JOSDK's default finds secondaries through
   * owner references, which this claim deliberately lacks, so without this every reconcile would
   * miss it and pay a create (409 Conflict) plus a GET against the API server.
   */
  @Override
  public Optional<PersistentVolumeClaim> getSecondaryResource(
      FineTuneJob job, Context<FineTuneJob> context) {
    return eventSource().flatMap(source -> source.get(targetSecondaryResourceID(job, context)));
  }

  @Override
  protected PersistentVolumeClaim desired(FineTuneJob job, Context<FineTuneJob> context) {
    FineTuneJobSettings settings = FineTuneContext.of(context).settings();
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata()
        .withName(settings.artifactClaimName())
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Map.of(Labels.MANAGED_BY, Labels.OPERATOR, Labels.COMPONENT, "artifacts"))
        .endMetadata()
        .withNewSpec()
        .withAccessModes("ReadWriteMany")
        .withStorageClassName(settings.artifactStorageClass())
        .withNewResources()
        .addToRequests("storage", settings.artifactStoreSize())
        .endResources()
        .endSpec()
        .build();
  }

  @Override
  public PersistentVolumeClaim create(
      PersistentVolumeClaim desired, FineTuneJob primary, Context<FineTuneJob> context) {
    try {
      return super.create(desired, primary, context);
    } catch (KubernetesClientException e) {
      // Another FineTuneJob of the namespace created it first: that is the goal reached.
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return context.getClient().resource(desired).get();
      }
      throw e;
    }
  }
}
