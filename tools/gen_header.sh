#!/usr/bin/env bash
# Regenerate include/faceless.h from src/ffi/ with cbindgen (cbindgen.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
FACELESS_REGEN_HEADER=1 cargo test --quiet --test header header_is_current
echo "include/faceless.h regenerated"
