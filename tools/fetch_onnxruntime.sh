#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library Faceless loads at run time.
#
# The library comes from the official PyPI wheel, pinned by version and
# checked by SHA-256, so that every checkout runs against the exact runtime
# the tests were written for. It is unpacked into .runtime/ and copied next to
# the built faceless executables and library, where the runtime loader looks
# for it last (explicit option, then ORT_DYLIB_PATH, then beside our library).
# ONNX Runtime's LICENSE, ThirdPartyNotices.txt and Privacy.md, from the same
# wheel, go to .runtime/licenses/onnxruntime/ (`make install` ships them).
set -euo pipefail

ORT_VERSION=1.31.1
WHEEL=onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
LIB=libonnxruntime.so.${ORT_VERSION}

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.runtime"
mkdir -p "$dest"

NOTICES=(LICENSE ThirdPartyNotices.txt Privacy.md)
have_all() {
    [ -f "$dest/$LIB" ] || return 1
    local n
    for n in "${NOTICES[@]}"; do [ -f "$dest/licenses/onnxruntime/$n" ] || return 1; done
}

if ! have_all; then
    if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
        echo "fetch_onnxruntime: only Linux x86_64 is automated; install ONNX Runtime $ORT_VERSION and set ORT_DYLIB_PATH" >&2
        exit 1
    fi
    if [ ! -f "$dest/$WHEEL" ]; then
        echo "fetch_onnxruntime: downloading $WHEEL" >&2
        python3 -m pip download --quiet --no-deps --only-binary=:all: \
            --python-version 3.11 --platform manylinux_2_28_x86_64 \
            "onnxruntime==$ORT_VERSION" -d "$dest" >&2
    fi
    echo "$WHEEL_SHA256  $dest/$WHEEL" | sha256sum --check --quiet - || {
        echo "fetch_onnxruntime: SHA-256 mismatch for $WHEEL; refusing to use it" >&2
        rm -f "$dest/$WHEEL"
        exit 1
    }
    python3 - "$dest/$WHEEL" "$dest" "$LIB" "${NOTICES[@]}" <<'PY'
import sys, zipfile, shutil, os
wheel, dest, lib, *notices = sys.argv[1:]
def extract(z, member, path):
    with z.open(member) as src, open(path + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
    os.replace(path + ".part", path)
with zipfile.ZipFile(wheel) as z:
    extract(z, "onnxruntime/capi/" + lib, os.path.join(dest, lib))
    lic = os.path.join(dest, "licenses", "onnxruntime")
    os.makedirs(lic, exist_ok=True)
    for n in notices:
        extract(z, "onnxruntime/" + n, os.path.join(lic, n))
PY
    rm -f "$dest/$WHEEL"
fi

# Beside every built profile, so binaries find it with no configuration.
for profile in debug release; do
    mkdir -p "$root/target/$profile"
    cp -f "$dest/$LIB" "$root/target/$profile/$LIB"
done
echo "$dest/$LIB"
