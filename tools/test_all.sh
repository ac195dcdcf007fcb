#!/usr/bin/env bash
# Every test of the project, as CI runs it (`.ci/run` calls this):
#   1. ONNX Runtime 1.31.1 fetched (pinned wheel, SHA-256 checked);
#   2. formatting, clippy with warnings as errors;
#   3. Rust unit and integration tests (parity with facenet-pytorch, image
#      input, CLI, models, FFI, header freshness), in release mode because
#      debug builds run the image code ~10x slower;
#   4. the same answers on x86 CPUs without VNNI (tools/test_cpu_paths.sh:
#      the CLI natively and under QEMU's Haswell, installing qemu-user);
#   5. the training data-preparation tests (standard library Python);
#   6. MTCNN ONNX files regenerated from the pinned wheel, compared bytes;
#   7. the C, C++, C# and Go bindings (tools/run_binding_tests.sh);
#   8. the installed SDK (tools/test_install.sh): `make install` into a
#      temporary PREFIX, then a C (pkg-config), C++ (find_package), Go and C#
#      app each built outside the repository and run without LD_LIBRARY_PATH
#      or ORT_DYLIB_PATH, the CLI, and `make dist`;
#   9. the Python package (tools/test_python.sh): its wheel installed into a
#      cached virtual environment under build/, pytest incl. Spark local mode.
# Each stage runs even when an earlier one failed; the exit code is non-zero
# if any failed, and the last line says which.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

failed=()
stage() {
    local name="$1"; shift
    printf '\n##### %s #####\n' "$name"
    if "$@"; then echo "##### $name: ok"; else echo "##### $name: FAILED"; failed+=("$name"); fi
}

if ! command -v cargo >/dev/null; then
    echo "cargo not found: install Rust from https://rustup.rs" >&2
    exit 1
fi

stage "onnxruntime" tools/fetch_onnxruntime.sh
export ORT_DYLIB_PATH="$root/.runtime/libonnxruntime.so.1.31.1"
stage "rustfmt" cargo fmt --all -- --check
stage "clippy" cargo clippy --release --all-targets -- -D warnings
stage "rust tests" cargo test --release
stage "cpu without vnni" tools/test_cpu_paths.sh
stage "training data tests" python3 -m pytest -q training/tests
stage "mtcnn models reproducible" tools/check_mtcnn_models.sh
stage "bindings" env FACELESS_PROFILE=release tools/run_binding_tests.sh
stage "install" tools/test_install.sh
stage "python" tools/test_python.sh

echo
if [ ${#failed[@]} -ne 0 ]; then
    echo "test_all: FAILED stages: ${failed[*]}"
    exit 1
fi
echo "test_all: every stage passed"
