package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.kubetune.operator.api.v1alpha1.DataSource;
import io.kubetune.operator.api.v1alpha1.DatasetSpec;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobSpec;
import io.kubetune.operator.api.v1alpha1.LoraSpec;
import io.kubetune.operator.api.v1alpha1.MethodSpec;
import io.kubetune.operator.api.v1alpha1.ModelSource;
import io.kubetune.operator.api.v1alpha1.OutputSpec;
import io.kubetune.operator.api.v1alpha1.QuantizationSpec;
import io.kubetune.operator.api.v1alpha1.SecretKeyRef;
import java.util.List;
import java.util.function.Consumer;

/** Fixture builder: {@code FineTuneJobs.lora("ns", "job").rank(4).build()}. */
public final class FineTuneJobs {
  private final FineTuneJob job = new FineTuneJob();

  private FineTuneJobs(String namespace, String name) {
    job.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    FineTuneJobSpec spec = new FineTuneJobSpec();
    spec.baseModel = new ModelSource();
    spec.baseModel.uri = "pvc://models/llama-3.2-1b";
    spec.dataset = new DatasetSpec();
    spec.dataset.train = DataSource.ofUri("pvc://datasets/chat/train.jsonl");
    spec.method.lora = new LoraSpec();
    spec.resources.cpu = new Quantity("4");
    spec.resources.memory = new Quantity("16Gi");
    job.setSpec(spec);
  }

  /** A LoRA job on a chat dataset on a PVC, one GPU. */
  public static FineTuneJobs lora(String namespace, String name) {
    return new FineTuneJobs(namespace, name);
  }

  public FineTuneJobs rank(int rank) {
    job.getSpec().method.lora.rank = rank;
    return this;
  }

  public FineTuneJobs alpha(double alpha) {
    job.getSpec().method.lora.alpha = alpha;
    return this;
  }

  public FineTuneJobs targetModules(String... modules) {
    job.getSpec().method.lora.targetModules = List.of(modules);
    return this;
  }

  public FineTuneJobs qlora() {
    job.getSpec().method.type = MethodSpec.Type.QLORA;
    job.getSpec().method.quantization = new QuantizationSpec();
    return this;
  }

  public FineTuneJobs methodType(MethodSpec.Type type) {
    job.getSpec().method.type = type;
    return this;
  }

  public FineTuneJobs baseModel(String uri) {
    job.getSpec().baseModel.uri = uri;
    return this;
  }

  public FineTuneJobs hubToken(String secret) {
    job.getSpec().baseModel.secretRef = new SecretKeyRef(secret, "token");
    return this;
  }

  public FineTuneJobs train(DataSource source) {
    job.getSpec().dataset.train = source;
    return this;
  }

  public FineTuneJobs validation(DataSource source) {
    job.getSpec().dataset.validation = source;
    return this;
  }

  public FineTuneJobs validationSplit(double split) {
    job.getSpec().dataset.validationSplit = split;
    return this;
  }

  public FineTuneJobs gpus(int gpus) {
    job.getSpec().resources.gpus = gpus;
    return this;
  }

  public FineTuneJobs queue(String queue) {
    job.getSpec().queueName = queue;
    return this;
  }

  public FineTuneJobs suspend(boolean suspend) {
    job.getSpec().suspend = suspend;
    return this;
  }

  public FineTuneJobs deadline(long seconds) {
    job.getSpec().activeDeadlineSeconds = seconds;
    return this;
  }

  public FineTuneJobs output(String claim, String subPath) {
    job.getSpec().output = new OutputSpec();
    job.getSpec().output.volume = new OutputSpec.Volume();
    job.getSpec().output.volume.claimName = claim;
    job.getSpec().output.volume.subPath = subPath;
    return this;
  }

  public FineTuneJobs learningRate(String lr) {
    job.getSpec().hyperparameters.learningRate = lr;
    return this;
  }

  /** Any other change. */
  public FineTuneJobs with(Consumer<FineTuneJobSpec> change) {
    change.accept(job.getSpec());
    return this;
  }

  public FineTuneJob build() {
    return job;
  }
}
