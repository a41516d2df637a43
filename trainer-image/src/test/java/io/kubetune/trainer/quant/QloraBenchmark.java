package io.kubetune.trainer.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.lora.LoraAdapter;
import io.kubetune.trainer.lora.LoraConfig;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.testing.Benchmarks;
import io.kubetune.trainer.testing.TinyModels;
import io.kubetune.trainer.train.TrainingExample;
import io.kubetune.trainer.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Our side of {@code bench/trainer-qlora/run.sh}: QLoRA vs LoRA fp32 on the same ~31M-parameter
 * Llama, one mode per JVM so each process's peak RSS is its own. Prints one JSON line. Not a test:
 * nothing is asserted on timings.
 *
 * <pre>
 * prepare WORK SEQ_LEN EXAMPLES
 * run WORK lora|qlora THREADS BATCH WARMUP STEPS RANK DOUBLE_QUANT
 * </pre>
 */
public final class QloraBenchmark {

  private QloraBenchmark() {}

  /**
   * Runs one command.
   *
   * @param args see the class comment
   */
  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[1]);
    if (args[0].equals("prepare")) {
      prepare(work, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    } else {
      run(
          work,
          args[2],
          Integer.parseInt(args[4]),
          Integer.parseInt(args[5]),
          Integer.parseInt(args[6]),
          Integer.parseInt(args[7]),
          Boolean.parseBoolean(args[8]));
    }
  }

  /** The same shape as {@code bench/trainer}'s model: 8 layers, width 512, GQA, 8000 tokens. */
  private static void prepare(Path work, int seqLen, int examples) throws IOException {
    TinyModels.llama()
        .vocab(8000)
        .hidden(512)
        .intermediate(1376)
        .layers(8)
        .heads(8)
        .kvHeads(4)
        .std(0.02f)
        .seed(0)
        .write(work.resolve("model"));
    Random r = new Random(0);
    ObjectMapper json = new ObjectMapper();
    ArrayNode data = json.createArrayNode();
    for (int e = 0; e < examples; e++) {
      ObjectNode ex = data.addObject();
      ArrayNode ids = ex.putArray("input_ids");
      ArrayNode labels = ex.putArray("labels");
      for (int t = 0; t < seqLen; t++) {
        int id = 3 + r.nextInt(8000 - 3);
        ids.add(id);
        // Loss on the second half, like a prompt/completion pair.
        labels.add(t < seqLen / 2 ? TrainingExample.IGNORE_INDEX : id);
      }
    }
    json.writeValue(work.resolve("data.json").toFile(), data);
  }

  private static void run(
      Path work, String mode, int batch, int warmup, int steps, int rank, boolean doubleQuant)
      throws Exception {
    List<TrainingExample> data = Benchmarks.readData(work);
    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.load(work.resolve("model"), manager)) {
      LoraConfig config =
          LoraConfig.builder()
              .setRank(rank)
              .optAlpha(2.0 * rank)
              .optTargetModules(List.of(LoraConfig.ALL_LINEAR))
              .build();
      LoraAdapter adapter;
      long baseBytes;
      long quantizableBytes;
      if (mode.equals("qlora")) {
        Qlora qlora =
            Qlora.apply(
                model, config, Nf4Options.defaults().withDoubleQuant(doubleQuant), manager, 0);
        adapter = qlora.adapter();
        BaseWeightMemory mem = qlora.baseWeightMemory();
        baseBytes = mem.totalBytes();
        quantizableBytes = mem.quantizedBytes();
      } else if (mode.equals("lora")) {
        adapter = LoraAdapter.apply(config, model, manager, 0);
        baseBytes = 0;
        quantizableBytes = 0;
        for (String name : model.weightNames()) {
          NDArray w = model.weight(name);
          long bytes = w.size() * w.getDataType().getNumOfBytes();
          baseBytes += bytes;
          if (name.endsWith("_proj.weight")) {
            quantizableBytes += bytes;
          }
        }
      } else {
        throw new IllegalArgumentException("mode must be lora or qlora, got " + mode);
      }
      System.gc();
      double loadPeak = Benchmarks.statusMiB("VmHWM:");
      double setupRss = Benchmarks.statusMiB("VmRSS:");
      // Peak while training only: the load peak (fp32 checkpoint before quantization) is reported
      // separately.
      boolean reset = Benchmarks.resetPeak();
      TrainingResult result =
          Benchmarks.train(
              model,
              adapter.parameters(),
              adapter::setTraining,
              data,
              batch,
              warmup + steps,
              manager);
      Benchmarks.Measured measured = Benchmarks.afterWarmup(result, warmup);
      System.out.printf(
          "{\"mode\": \"%s\", \"tokensPerSecond\": %.3f, \"seconds\": %.3f, \"tokens\": %d,"
              + " \"finalLoss\": %.6f, \"baseWeightBytes\": %d, \"projectionWeightBytes\": %d,"
              + " \"setupRssMiB\": %.1f, \"loadPeakRssMiB\": %.1f, \"trainPeakRssMiB\": %.1f,"
              + " \"peakReset\": %b}%n",
          mode,
          measured.tokensPerSecond(),
          measured.seconds(),
          measured.tokens(),
          measured.last().trainLoss(),
          baseBytes,
          quantizableBytes,
          setupRss,
          loadPeak,
          Benchmarks.statusMiB("VmHWM:"),
          reset);
    }
  }
}
