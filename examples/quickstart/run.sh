#!/usr/bin/env bash
# The local quick start: LoRA fine-tunes the shipped pre-trained model (model/) on CPU to answer
# "Define the word X." and prints validation loss / token accuracy on held-out words before and
# after, a few generations, and where the PEFT adapter was written.
#
#   bash examples/quickstart/run.sh [QuickStart options, e.g. --epochs 1]
#
# Needs Java 17 and Maven; builds the trainer on first use (dependencies from Maven Central).
# QUICKSTART_OUT moves the adapter (default: examples/quickstart/out/adapter).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
jar="$root/trainer-image/target/kubetune-trainer.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root/trainer-image/src/main" "$root/contract/src/main" \
    -newer "$jar" -print -quit)" ]; then
  echo "building the trainer (mvn package, tests skipped) ..."
  (cd "$root" && mvn -B -ntp -q -pl trainer-image -am package -DskipTests)
fi
export DJL_OFFLINE=true OPT_OUT_TRACKING=true
# As the trainer image (trainer-image/Dockerfile): large tensors get their own mapping.
export MALLOC_MMAP_THRESHOLD_=33554432
# One intra-op thread: a model this small gains nothing from more, and on a busy machine
# OpenMP threads that spin while waiting for each other make training many times slower.
threads="${OMP_NUM_THREADS:-1}"
export OMP_NUM_THREADS="$threads"
exec java -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads=1 \
  -cp "$jar" io.kubetune.trainer.quickstart.QuickStart \
  --model "$here/model" \
  --train "$here/data/define-train.jsonl" \
  --validation "$here/data/define-valid.jsonl" \
  --out "${QUICKSTART_OUT:-$here/out/adapter}" \
  "$@"
