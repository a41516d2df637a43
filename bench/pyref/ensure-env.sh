#!/usr/bin/env bash
# Creates (once) a Python virtualenv holding the reference implementation (HF transformers + PEFT)
# and prints the path of its python. Interop tests and benchmarks call this; it is idempotent and
# keyed by the requirements file, so a change of pins builds a fresh environment.
# KUBETUNE_PYREF overrides where the environment lives.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
req="$here/requirements.txt"
key="$(sha256sum "$req" | cut -c1-12)"
dir="${KUBETUNE_PYREF:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetune/pyref-$key}"
py="${PYTHON:-python3}"
mkdir -p "$(dirname "$dir")"
# Several test JVMs may ask at once: one installs, the others wait for it.
exec 9>"$dir.lock"
flock 9
if [ ! -x "$dir/bin/python" ] || [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  "$py" -m venv "$dir" >&2
  # The public index is unreachable here; --retries 0 falls through to the local mirror at once.
  "$dir/bin/python" -m pip install -q --retries 0 --disable-pip-version-check -r "$req" >&2
  touch "$dir/.complete"
fi
echo "$dir/bin/python"
