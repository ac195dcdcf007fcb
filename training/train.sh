#!/usr/bin/env bash
# One command: UTKFace chips -> trained, calibrated ONNX model + report + model card.
# Usage (from anywhere): training/train.sh [--data-dir DIR] [--epochs N] [...]   (see --help)
# Python: $PYTHON if set, else the first of .venv/bin/python, /work/venv/bin/python, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  for p in .venv/bin/python /work/venv/bin/python python3; do
    if command -v "$p" >/dev/null 2>&1; then PYTHON="$p"; break; fi
  done
fi
exec nice -n "${NICE:-5}" "$PYTHON" -m training.train "$@"
