package io.kubetune.trainer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.export.PeftAdapter;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.train.ReferencePython;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEFT (transformers 5 + peft, from bench/pyref) loads the adapter {@code train} wrote. */
class TrainerCliPeftInteropTest {
  @TempDir Path dir;

  @Test
  void peftLoadsTheCliAdapterAndComputesOurLogits() throws Exception {
    Path model = CliRun.tinyModel(dir.resolve("model"));
    Path train = CliRun.chatData(dir.resolve("train.jsonl"), 12, 3);
    Path valid = CliRun.chatData(dir.resolve("valid.jsonl"), 4, 4);
    ObjectNode cfg = CliRun.trainConfig(model, train, valid, dir.resolve("run"));
    ((ObjectNode) cfg.get("hyperparameters")).put("maxSteps", 6).put("evalEverySteps", 3);
    Path file = CliRun.write(dir.resolve("run/job.json"), cfg);
    CliRun run = CliRun.run(dir, "train", "--config", file.toString());
    assertEquals(0, run.exitCode, run.stderr);
    Path adapter = dir.resolve("run/adapter");

    long[][] ids = {{1, 10, 11, 12, 13, 20, 30, 40}, {1, 7, 8, 9, 22, 23, 0, 0}};
    long[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 0, 0}};
    float[] ours;
    float[] base;
    try (NDManager m = NDManager.newBaseManager();
        LlamaModel llama = LlamaModel.load(model, m)) {
      base =
          llama
              .forward(
                  m.create(flatten(ids), new Shape(2, 8)),
                  m.create(flatten(mask), new Shape(2, 8)),
                  null)
              .toFloatArray();
      PeftAdapter.load(adapter, llama, m);
      ours =
          llama
              .forward(
                  m.create(flatten(ids), new Shape(2, 8)),
                  m.create(flatten(mask), new Shape(2, 8)),
                  null)
              .toFloatArray();
    }
    JsonNode ref =
        ReferencePython.run(
            "peft_reference.py",
            Map.of(
                "mode",
                "logits",
                "model_dir",
                model.toString(),
                "adapter_dir",
                adapter.toString(),
                "input_ids",
                ids,
                "attention_mask",
                mask));
    JsonNode logits = ref.get("logits");
    assertEquals(ours.length, logits.size());
    double maxDiff = 0;
    double adapterEffect = 0;
    for (int i = 0; i < ours.length; i++) {
      // Padded positions of row 2 are compared too: both sides compute them the same way.
      maxDiff = Math.max(maxDiff, Math.abs(ours[i] - logits.get(i).asDouble()));
      adapterEffect = Math.max(adapterEffect, Math.abs(ours[i] - base[i]));
    }
    System.out.printf(
        "PEFT vs ours on the CLI adapter: max abs diff %.3g (adapter moves logits by %.3g)%n",
        maxDiff, adapterEffect);
    assertTrue(adapterEffect > 0.1, "the trained adapter must change the logits");
    assertTrue(maxDiff <= 1e-4, "max abs diff " + maxDiff);
  }

  private static long[] flatten(long[][] rows) {
    long[] out = new long[rows.length * rows[0].length];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, out, r * rows[0].length, rows[0].length);
    }
    return out;
  }
}
