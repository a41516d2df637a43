package io.kubetune.trainer.merge;

import io.kubetune.trainer.full.HfModelExporter;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.safetensors.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code merge --base DIR --adapter DIR --out DIR}: writes base + adapter as one HF model. */
@Command(
    name = "merge",
    description = "Fold a LoRA adapter into its base model and write a Hugging Face model folder.",
    mixinStandardHelpOptions = true)
public final class MergeCommand implements Callable<Integer> {

  @Option(names = "--base", required = true, description = "Base model folder.")
  Path base;

  @Option(names = "--adapter", required = true, description = "PEFT adapter folder.")
  Path adapter;

  @Option(names = "--out", required = true, description = "Merged model folder to write.")
  Path out;

  @Option(names = "--dtype", defaultValue = "F32", description = "F32 or F16.")
  DType dtype;

  @Option(
      names = "--max-shard-bytes",
      defaultValue = "5000000000",
      description = "Split the weights into shards of at most this size.")
  long maxShardBytes;

  /** Runs the command stand-alone. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new MergeCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    for (Path dir : List.of(base, adapter)) {
      if (!Files.isDirectory(dir)) {
        System.err.println(dir + ": not a folder; --base and --adapter must be model folders");
        return 2;
      }
    }
    try (LlamaModel model = LlamaModel.load(base)) {
      List<String> merged = LoraMerge.merge(model, adapter);
      HfModelExporter.Exported exported =
          HfModelExporter.builder()
              .setSource(base)
              .optDtype(dtype)
              .optMaxShardBytes(maxShardBytes)
              .build()
              .export(model, out);
      System.out.printf(
          "merged %d projections; wrote %s (%d shard(s), %d bytes)%n",
          merged.size(), out, exported.shards().size(), exported.weightBytes());
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("merge failed: " + e.getMessage());
      return 2;
    }
  }
}
