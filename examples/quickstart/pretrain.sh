#!/usr/bin/env bash
# Reproduces the quick-start base model: builds the corpus from Debian packages, then pre-trains a
# small Llama from random weights with the trainer's own full fine-tuning (PretrainCommand).
#
#   bash examples/quickstart/pretrain.sh            # writes examples/quickstart/work/model
#   bash examples/quickstart/pretrain.sh --install  # ... and replaces model/ and data/ with it
#
# The tokenizer is the committed one (model/tokenizer.json) unless RETRAIN_TOKENIZER=1, which
# trains it again with the python `tokenizers` library of the reference environment
# (bench/pyref/ensure-env.sh). Figures and timings: README.md beside this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${PRETRAIN_WORK:-$here/work}"
if [ ! -f /usr/share/wordnet/data.noun ] || [ ! -f /usr/share/games/fortunes/fortunes ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && apt-get install -y -q wordnet-base fortunes
  else
    echo "needs the Debian packages wordnet-base and fortunes: sudo apt-get install -y wordnet-base fortunes" >&2
    exit 1
  fi
fi
mkdir -p "$work/tokenizer"
python3 "$here/build_corpus.py" "$work"
if [ "${RETRAIN_TOKENIZER:-0}" = 1 ]; then
  py="$(bash "$root/bench/pyref/ensure-env.sh")"
  "$py" "$here/train_tokenizer.py" "$work/corpus-train.txt" "$work/tokenizer"
else
  cp "$here/model/tokenizer.json" "$here/model/tokenizer_config.json" "$work/tokenizer/"
fi
(cd "$root" && mvn -B -ntp -q -pl trainer-image -am package -DskipTests)
export DJL_OFFLINE=true OPT_OUT_TRACKING=true OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# As the trainer image (trainer-image/Dockerfile): large tensors get their own mapping.
export MALLOC_MMAP_THRESHOLD_=33554432
java -Dai.djl.pytorch.num_threads="$OMP_NUM_THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -cp "$root/trainer-image/target/kubetune-trainer.jar" io.kubetune.trainer.full.PretrainCommand \
  --corpus "$work/corpus-train.txt" --validation "$work/corpus-heldout.txt" \
  --tokenizer "$work/tokenizer" --out "$work/model" \
  --hidden-size 160 --intermediate-size 432 --layers 4 --heads 4 --kv-heads 2 \
  --seq-length 64 --batch-size 16 --steps 1400 --learning-rate 4e-3 --warmup-ratio 0.03 \
  --eval-every 200 --validation-windows 32 --export-every 100 --seed 42 \
  | tee "$work/pretrain.log"
if [ "${1:-}" = --install ]; then
  cp "$work"/model/* "$here/model/"
  cp "$work/corpus-heldout.txt" "$work/define-train.jsonl" "$work/define-valid.jsonl" "$here/data/"
  echo "installed the new model into $here/model"
fi
