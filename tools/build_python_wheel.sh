#!/usr/bin/env bash
# Build the `faceless` Python wheel (bindings/python) carrying libfaceless:
#
#   OUTDIR/faceless-VERSION-py3-none-PLATFORM.whl
#
# PLATFORM is manylinux_2_M_ARCH when libfaceless needs only the libraries
# manylinux allows and glibc symbols up to 2.M (read from the library with
# objdump), else linux_ARCH. The package is ctypes only, hence py3-none: any
# Python 3 on that platform. ONNX Runtime is not inside: the wheel depends on
# onnxruntime==1.31.1, whose bundled library the package loads.
#
# Usage: tools/build_python_wheel.sh [OUTDIR] [release|debug]
#   (default build/python/dist, release; PYTHON picks the interpreter, whose
#   setuptools and wheel build it when present, else pip fetches them)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/python/dist}"
profile="${2:-release}"
python="${PYTHON:-python3}"
case "$profile" in debug) cargo_flags=() ;; release) cargo_flags=(--release) ;;
    *) echo "build_python_wheel: profile must be debug or release, not $profile" >&2; exit 2 ;; esac
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"

(cd "$root" && cargo build --lib ${cargo_flags[@]+"${cargo_flags[@]}"})
lib="$root/target/$profile/libfaceless.so"

# the platform tag the library allows
arch="$(uname -m)"
platform="linux_$arch"
allowed='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'
needed="$(objdump -p "$lib" | awk '/NEEDED/ {print $2}')"
if ! grep -Evq "$allowed" <<<"$needed"; then
    glibc="$(objdump -T "$lib" | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -n1)"
    [ -n "$glibc" ] && platform="manylinux_2_${glibc#GLIBC_2.}_$arch"
fi

stage="$root/build/python/stage"
rm -rf "$stage"
mkdir -p "$stage" "$out"
cp -r "$root/bindings/python/pyproject.toml" "$root/bindings/python/setup.py" \
    "$root/bindings/python/README.md" "$root/bindings/python/faceless" "$stage/"
cp "$root/LICENSE" "$root/MODEL_CARD.md" "$stage/"
mkdir -p "$stage/licenses"
for m in mtcnn classifier classifier-fast backbones; do cp "$root/models/$m/README.md" "$stage/licenses/models-$m.md"; done
cp "$root/models/classifier/THIRD_PARTY_LICENSES.txt" "$stage/licenses/models-classifier-third-party.txt"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
cp "$lib" "$stage/faceless/libfaceless.so.0"

isolation=(--no-build-isolation)
"$python" -c 'import setuptools, wheel' 2>/dev/null || isolation=()
rm -f "$out"/faceless-*.whl
FACELESS_VERSION="$version" FACELESS_WHEEL_PLATFORM="$platform" \
    "$python" -m pip wheel --quiet --no-deps ${isolation[@]+"${isolation[@]}"} -w "$out" "$stage"
rm -rf "$stage"
ls "$out"/faceless-"$version"-py3-none-"$platform".whl
