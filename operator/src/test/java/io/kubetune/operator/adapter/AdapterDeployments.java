package io.kubetune.operator.adapter;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterEntry;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.AdapterSource;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentSpec.LocalRef;
import io.kubetune.operator.api.v1alpha1.ResourcesSpec;

/** Builds AdapterDeployment fixtures: {@code AdapterDeployments.of("ns", "ad").path("a")...}. */
final class AdapterDeployments {
  private final AdapterDeployment ad = new AdapterDeployment();

  private AdapterDeployments(String ns, String name) {
    ad.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    AdapterDeploymentSpec spec = new AdapterDeploymentSpec();
    spec.baseModel = new AdapterDeploymentSpec.ServedModel();
    spec.baseModel.uri = "pvc://models/tiny-llama";
    spec.resources = new ResourcesSpec();
    spec.resources.gpus = 0;
    ad.setSpec(spec);
  }

  static AdapterDeployments of(String ns, String name) {
    return new AdapterDeployments(ns, name);
  }

  /** Adds adapter {@code name} from pvc://kubetune-artifacts/adapters/{folder}. */
  AdapterDeployments path(String name, String folder) {
    AdapterEntry e = new AdapterEntry();
    e.name = name;
    e.source = new AdapterSource();
    e.source.path = "pvc://kubetune-artifacts/adapters/" + folder;
    ad.getSpec().adapters.add(e);
    return this;
  }

  /** Adds adapter {@code name} from a raw source path. */
  AdapterDeployments rawPath(String name, String uri) {
    AdapterEntry e = new AdapterEntry();
    e.name = name;
    e.source = new AdapterSource();
    e.source.path = uri;
    ad.getSpec().adapters.add(e);
    return this;
  }

  /** Adds adapter {@code name} from FineTuneJob {@code job}. */
  AdapterDeployments job(String name, String job) {
    AdapterEntry e = new AdapterEntry();
    e.name = name;
    e.source = new AdapterSource();
    e.source.fineTuneJobRef = new LocalRef();
    e.source.fineTuneJobRef.name = job;
    ad.getSpec().adapters.add(e);
    return this;
  }

  AdapterDeployments pinned() {
    ad.getSpec().adapters.get(ad.getSpec().adapters.size() - 1).pin = true;
    return this;
  }

  AdapterDeployments replicas(int n) {
    ad.getSpec().replicas = n;
    return this;
  }

  AdapterDeployments maxLoraRank(int rank) {
    ad.getSpec().lora.maxLoraRank = rank;
    return this;
  }

  AdapterDeployments baseModel(String uri) {
    ad.getSpec().baseModel.uri = uri;
    return this;
  }

  AdapterDeployment build() {
    return ad;
  }
}
