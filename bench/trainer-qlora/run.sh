#!/usr/bin/env bash
# QLoRA benchmark: kubetune's QLoRA (NF4 base, fp32 LoRA) vs kubetune's LoRA on an fp32 base, same
# ~31M-parameter Llama, data, LoRA settings and thread count, each in its own JVM. Prints resident
# bytes of the base weights, RSS and tokens/s of each and the ratios (QLoRA / LoRA).
#
#   bench/trainer-qlora/run.sh      # THREADS, SEQ_LEN, BATCH, WARMUP, STEPS, RANK, DOUBLE_QUANT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="${THREADS:-$(nproc)}"
seq_len="${SEQ_LEN:-128}"
batch="${BATCH:-4}"
warmup="${WARMUP:-1}"
steps="${STEPS:-5}"
rank="${RANK:-16}"
double_quant="${DOUBLE_QUANT:-true}"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Builds the classpath and defines java_run: the trainer image's JVM and allocator settings, for
# both sides.
source "$root/bench/lib/java-bench.sh"
main=io.kubetune.trainer.quant.QloraBenchmark

echo "preparing model and data in $work" >&2
java_run "$main" prepare "$work" "$seq_len" $(( batch * (warmup + steps) ))
for mode in lora qlora; do
  echo "$mode: $threads threads" >&2
  java_run "$main" run "$work" "$mode" "$threads" "$batch" "$warmup" "$steps" "$rank" "$double_quant" \
    | tail -n 1 > "$work/$mode.json"
done

python3 - "$work/lora.json" "$work/qlora.json" "$threads" "$seq_len" "$batch" "$rank" "$double_quant" <<'PY'
import json, sys
lora, qlora = (json.load(open(p)) for p in sys.argv[1:3])
mib = 1024 * 1024
print(f"QLoRA vs LoRA fp32, Llama ~31M params, threads={sys.argv[3]} seq_len={sys.argv[4]} "
      f"batch={sys.argv[5]} rank={sys.argv[6]} all-linear, NF4 block 64, double quant={sys.argv[7]}")
rows = [("projection weights MiB", "projectionWeightBytes", mib),
        ("all base weights MiB", "baseWeightBytes", mib),
        ("RSS after setup MiB", "setupRssMiB", 1),
        ("peak RSS loading MiB", "loadPeakRssMiB", 1),
        ("peak RSS training MiB", "trainPeakRssMiB", 1),
        ("tokens/s", "tokensPerSecond", 1)]
print(f"{'':26}{'LoRA':>10}{'QLoRA':>10}{'QLoRA/LoRA':>12}")
for name, key, div in rows:
    a, b = lora[key] / div, qlora[key] / div
    print(f"{name:26}{a:>10.1f}{b:>10.1f}{b / a:>11.3f}x")
if not (lora["peakReset"] and qlora["peakReset"]):
    print("note: this kernel did not allow resetting VmHWM; training peaks include loading")
print(f"final loss: LoRA {lora['finalLoss']:.4f}, QLoRA {qlora['finalLoss']:.4f}")
PY
