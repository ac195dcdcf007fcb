#!/usr/bin/env bash
# One command: UTKFace chips -> trained, calibrated ONNX model + report + model card.
# Usage (from anywhere): training/train.sh [--data-dir DIR] [--no-align] [--epochs N] [...]   (see --help)
#
# By default the chips are first re-aligned by the SDK itself
# (examples/export_aligned.rs: our MTCNN + our alignment to the manifest's
# template) into training/out/aligned, and the model is trained on those, so
# that it sees in training exactly the crops the pipeline gives it at run
# time. --no-align trains on the chips as distributed.
# Python: $PYTHON if set, else the first of .venv/bin/python, /work/venv/bin/python, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  for p in .venv/bin/python /work/venv/bin/python python3; do
    if command -v "$p" >/dev/null 2>&1; then PYTHON="$p"; break; fi
  done
fi
data_dir="../shared/datasets/utkface/images"
align=1
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="$2"; shift 2 ;;
    --data-dir=*) data_dir="${1#--data-dir=}"; shift ;;
    --no-align) align=0; shift ;;
    *) rest+=("$1"); shift ;;
  esac
done
if [ "$align" = 1 ]; then
  tools/fetch_onnxruntime.sh >/dev/null
  cargo build --release --quiet --example export_aligned
  ORT_DYLIB_PATH="$PWD/.runtime/libonnxruntime.so.1.31.1" \
    target/release/examples/export_aligned "$data_dir" training/out/aligned
  exec nice -n "${NICE:-5}" "$PYTHON" -m training.train --data-dir training/out/aligned \
    --chips-note "UTKFace chips re-aligned by the SDK (examples/export_aligned.rs: faceless MTCNN + alignment to the manifest template)" \
    ${rest[@]+"${rest[@]}"}
fi
exec nice -n "${NICE:-5}" "$PYTHON" -m training.train --data-dir "$data_dir" ${rest[@]+"${rest[@]}"}
