#!/usr/bin/env bash
# LoRA training benchmark: kubetune's trainer (DJL + PyTorch) vs transformers + PEFT on the same
# ~31M-parameter Llama, data, sequence length, LoRA settings and thread count, run one after the
# other on this machine. Prints tokens/s and peak RSS of each and the ratios (ours / reference).
#
#   bench/trainer/run.sh            # THREADS, SEQ_LEN, BATCH, WARMUP, STEPS, RANK override defaults
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="${THREADS:-$(nproc)}"
seq_len="${SEQ_LEN:-256}"
batch="${BATCH:-4}"
warmup="${WARMUP:-2}"
steps="${STEPS:-8}"
rank="${RANK:-16}"
export DJL_OFFLINE=true OPT_OUT_TRACKING=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

py="$(bash "$root/bench/pyref/ensure-env.sh" | tail -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "preparing model and data in $work" >&2
"$py" "$here/bench_peft.py" prepare "$work" "$seq_len" $(( batch * (warmup + steps) )) >&2

# Builds the classpath and defines java_run: the trainer image's JVM options and malloc setting,
# so that the figures are those of production.
source "$root/bench/lib/java-bench.sh"
echo "ours: $threads threads, $java_opts, MALLOC_MMAP_THRESHOLD_=33554432" >&2
java_run -Dorg.slf4j.simpleLogger.defaultLogLevel=warn io.kubetune.trainer.train.TrainingBenchmark \
  "$work" "$threads" "$batch" "$warmup" "$steps" "$rank" | tail -n 1 > "$work/ours.json"
echo "reference: $threads threads" >&2
"$py" "$here/bench_peft.py" train "$work" "$threads" "$batch" "$warmup" "$steps" "$rank" \
  | tail -n 1 > "$work/ref.json"

python3 - "$work/ours.json" "$work/ref.json" "$threads" "$seq_len" "$batch" "$rank" <<'PY'
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
print(f"LoRA training, Llama ~31M params, threads={sys.argv[3]} seq_len={sys.argv[4]} "
      f"batch={sys.argv[5]} rank={sys.argv[6]} all-linear, fp32 CPU")
print(f"{'':12}{'tokens/s':>10}{'median step':>13}{'best step':>11}{'setup RSS MiB':>15}"
      f"{'peak RSS MiB':>14}")
for name, r in (("kubetune", ours), ("HF+PEFT", ref)):
    print(f"{name:12}{r['tokensPerSecond']:>10.1f}{r['medianStepTokensPerSecond']:>13.1f}"
          f"{r['bestStepTokensPerSecond']:>11.1f}{r['setupRssMiB']:>15.0f}{r['peakRssMiB']:>14.0f}")
print(f"throughput ratio (ours/ref): {ours['tokensPerSecond'] / ref['tokensPerSecond']:.2f}x overall, "
      f"{ours['medianStepTokensPerSecond'] / ref['medianStepTokensPerSecond']:.2f}x median step, "
      f"{ours['bestStepTokensPerSecond'] / ref['bestStepTokensPerSecond']:.2f}x best step")
print(f"peak memory ratio (ours/ref): {ours['peakRssMiB'] / ref['peakRssMiB']:.2f}x")
print("(the two runs are sequential; on a shared machine the best-step ratio is the least noisy)")
PY
