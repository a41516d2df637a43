#!/usr/bin/env bash
# Full vs partial vs LoRA fine-tuning: kubetune's trainer on the same ~31M-parameter Llama, data,
# thread count and AdamW, each method in its own JVM. Prints trainable parameters, optimizer-state
# bytes, peak RSS while training and tokens/s of each, with ratios to LoRA.
#
#   bench/trainer-full/run.sh      # THREADS, SEQ_LEN, BATCH, WARMUP, STEPS, RANK, LAYERS
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="${THREADS:-$(nproc)}"
seq_len="${SEQ_LEN:-128}"
batch="${BATCH:-4}"
warmup="${WARMUP:-1}"
steps="${STEPS:-3}"
rank="${RANK:-16}"
layers="${LAYERS:-2}"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Builds the classpath and defines java_run (the trainer image's JVM and allocator settings).
source "$root/bench/lib/java-bench.sh"

echo "preparing model and data in $work" >&2
# The model and random-token data of bench/trainer-qlora: 8 layers, width 512, GQA, 8000 tokens.
java_run io.kubetune.trainer.quant.QloraBenchmark prepare "$work" "$seq_len" $(( batch * (warmup + steps) ))
for mode in lora partial full; do
  echo "$mode: $threads threads" >&2
  java_run io.kubetune.trainer.job.MethodBenchmark run "$work" "$mode" "$threads" "$batch" \
    "$warmup" "$steps" "$rank" "$layers" | tail -n 1 > "$work/$mode.json"
done

python3 - "$work" "$threads" "$seq_len" "$batch" "$rank" "$layers" <<'PY'
import json, sys
work = sys.argv[1]
runs = {m: json.load(open(f"{work}/{m}.json")) for m in ("lora", "partial", "full")}
mib = 1024 * 1024
print(f"Full vs partial vs LoRA, Llama ~31M params, threads={sys.argv[2]} seq_len={sys.argv[3]} "
      f"batch={sys.argv[4]}; LoRA rank {sys.argv[5]} all-linear; partial = top {sys.argv[6]} of 8 "
      f"layers; AdamW fp32, CPU")
rows = [("trainable parameters (M)", "trainableParameters", 1e6),
        ("optimizer state MiB", "optimizerStateBytes", mib),
        ("RSS after setup MiB", "setupRssMiB", 1),
        ("peak RSS training MiB", "trainPeakRssMiB", 1),
        ("tokens/s", "tokensPerSecond", 1)]
print(f"{'':26}{'LoRA':>10}{'partial':>10}{'full':>10}{'partial/LoRA':>14}{'full/LoRA':>11}")
for name, key, div in rows:
    a, p, f = (runs[m][key] / div for m in ("lora", "partial", "full"))
    print(f"{name:26}{a:>10.2f}{p:>10.2f}{f:>10.2f}{p / a:>13.2f}x{f / a:>10.2f}x")
if not all(r["peakReset"] for r in runs.values()):
    print("note: this kernel did not allow resetting VmHWM; training peaks include loading")
print("final loss: " + ", ".join(f"{m} {r['finalLoss']:.4f}" for m, r in runs.items()))
PY
