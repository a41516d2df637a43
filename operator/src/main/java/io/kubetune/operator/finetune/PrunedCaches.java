package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * Informer stores that keep only what the FineTuneJob reconciler reads, so the operator's heap
 * grows slowly with the number of jobs.
 *
 * <p>The reconciler reads Jobs for their metadata, status, {@code spec.suspend} and {@code
 * spec.activeDeadlineSeconds}, and Pods for their metadata and status; it never reads a pod
 * template or a pod spec, which are most of those objects. {@code metadata.managedFields}, often a
 * third of an object on a real API server, is read by nobody. Stored copies are pruned; the objects
 * handed to event handlers are left alone.
 */
public final class PrunedCaches {

  private PrunedCaches() {}

  /** Jobs without their pod template and pod failure policy. */
  public static final class JobStore extends PruningStore<Job> {
    @Override
    Job pruned(Job job) {
      return prune(job);
    }

    static Job prune(Job job) {
      Job pruned = new Job();
      pruned.setApiVersion(job.getApiVersion());
      pruned.setKind(job.getKind());
      pruned.setMetadata(metadata(job));
      pruned.setStatus(job.getStatus());
      JobSpec spec = job.getSpec();
      if (spec != null) {
        JobSpec kept = new JobSpec();
        kept.setSuspend(spec.getSuspend());
        kept.setActiveDeadlineSeconds(spec.getActiveDeadlineSeconds());
        kept.setBackoffLimit(spec.getBackoffLimit());
        kept.setCompletions(spec.getCompletions());
        kept.setParallelism(spec.getParallelism());
        pruned.setSpec(kept);
      }
      return pruned;
    }
  }

  /** Pods without their spec. */
  public static final class PodStore extends PruningStore<Pod> {
    @Override
    Pod pruned(Pod pod) {
      return prune(pod);
    }

    static Pod prune(Pod pod) {
      Pod pruned = new Pod();
      pruned.setApiVersion(pod.getApiVersion());
      pruned.setKind(pod.getKind());
      pruned.setMetadata(metadata(pod));
      pruned.setStatus(pod.getStatus());
      return pruned;
    }
  }

  /** A store that keeps a pruned copy of each object it is given. */
  abstract static class PruningStore<T extends HasMetadata> extends BasicItemStore<T> {
    PruningStore() {
      super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public T put(String key, T object) {
      return super.put(key, pruned(object));
    }

    abstract T pruned(T object);
  }

  private static ObjectMeta metadata(HasMetadata object) {
    ObjectMeta meta = object.getMetadata();
    if (meta == null || meta.getManagedFields() == null || meta.getManagedFields().isEmpty()) {
      return meta;
    }
    return new ObjectMetaBuilder(meta).withManagedFields().build();
  }
}
