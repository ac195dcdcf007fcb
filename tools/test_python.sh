#!/usr/bin/env bash
# The Python package's tests, as `make test` runs them (stage "python"):
#   1. build the wheel (tools/build_python_wheel.sh) and the CLI the tests
#      compare against;
#   2. install it with its [spark,test] extras into a virtual environment
#      kept under build/python-venv (made once; its dependencies are
#      reinstalled only when bindings/python/pyproject.toml changes, so reruns
#      take seconds), the wheel itself reinstalled every time;
#   3. run pytest on bindings/python/tests against the installed package,
#      with ORT_DYLIB_PATH unset so ONNX Runtime comes from the onnxruntime
#      wheel, and Spark required (its local-mode test over
#      ../shared/datasets/photos skips only when that folder is absent).
# Needs Python 3.9+ with venv, network access to PyPI on the first run, and
# Java 17+ for PySpark.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/build/python-venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -c 'import setuptools, wheel' 2>/dev/null \
    || "$venv/bin/pip" install --quiet --upgrade pip setuptools wheel

PYTHON="$venv/bin/python" tools/build_python_wheel.sh "$root/build/python/dist" release
cargo build --release --quiet --bins
wheel="$(ls "$root"/build/python/dist/faceless-*.whl)"

stamp="$venv/.faceless-deps"
want="$(sha256sum bindings/python/pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "test_python: installing the dependencies into $venv"
    "$venv/bin/pip" install --quiet "$wheel[spark,test]"
    echo "$want" > "$stamp"
fi
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

cd bindings/python/tests   # not bindings/python: `import faceless` must find the installed one
env -u ORT_DYLIB_PATH -u FACELESS_LIBRARY -u PYTHONPATH \
    FACELESS_REQUIRE_SPARK=1 FACELESS_CLI="$root/target/release/faceless" \
    "$venv/bin/pytest" -q -p no:cacheprovider .
