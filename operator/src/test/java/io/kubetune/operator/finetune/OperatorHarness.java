package io.kubetune.operator.finetune;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.kubetune.contract.Contract;
import io.kubetune.contract.DatasetReport;
import io.kubetune.operator.OperatorBootstrap;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.testing.GeneratedCrds;
import java.util.List;

/** Starts the real operator on a mock server and drives jobs to interesting states. */
final class OperatorHarness implements AutoCloseable {
  final KubernetesClient client;
  final Cluster cluster;
  private Operator operator;

  OperatorHarness(KubernetesClient client) {
    this.client = client;
    GeneratedCrds.register(client);
    this.cluster = new Cluster(client);
    start();
  }

  void start() {
    operator = OperatorBootstrap.newOperator(client);
    operator.register(new FineTuneJobReconciler(FineTuneJobSettings.defaults()));
    operator.start();
  }

  /** Stops the operator, as a crash or a leader change would. */
  void stop() {
    operator.stop();
  }

  /** Creates {@code job}, lets its dataset validate and returns the trainer Job. */
  Job toTrainer(FineTuneJob job) {
    String ns = job.getMetadata().getNamespace();
    String name = job.getMetadata().getName();
    cluster.create(job);
    Job validation = cluster.awaitJob(ns, name + "-validate");
    validDataset(validation);
    return cluster.awaitJob(ns, name + "-trainer");
  }

  void validDataset(Job validation) {
    DatasetReport report = new DatasetReport(true, "chat", 90, 10, 5000, 0, 0, List.of());
    cluster.terminatedPod(validation, "v", 0, "Completed", Contract.writeBounded(report));
    cluster.jobStatus(validation, 0, 0, "Complete", null);
  }

  @Override
  public void close() {
    operator.stop();
  }
}
