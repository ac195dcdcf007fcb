#!/usr/bin/env bash
# Regenerate models/mtcnn/{pnet,rnet,onet}.onnx from the facenet-pytorch 2.6.0
# wheel and compare them byte-for-byte with the committed files.
#
# Needs only python3 (with venv + pip) and access to PyPI. It creates, if
# absent, an ignored venv .venv-tools/ in the repository root with pinned
# numpy + onnx + protobuf, downloads the facenet-pytorch wheel (no deps, cached in
# .venv-tools/cache/), checks its SHA-256 and runs tools/convert_mtcnn.py.
# Exit status: 0 when identical, 1 on any mismatch, 2 on a setup error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-tools"
CACHE="$VENV/cache"
PY="${PYTHON:-python3}"
NUMPY_PIN="numpy==1.26.4"
ONNX_PIN="onnx==1.16.2"
PROTOBUF_PIN="protobuf==7.36.2"  # serialises the models; pinned so the bytes cannot drift
WHEEL="facenet_pytorch-2.6.0-py3-none-any.whl"
WHEEL_SHA256="ecb82b27beb226d106f2219efe8f829b01b87a8595badd01545679bdb9f19cca"

die() { echo "check_mtcnn_models: $*" >&2; exit 2; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import numpy, onnx, google.protobuf as p; assert (numpy.__version__, onnx.__version__, p.__version__) == ("1.26.4", "1.16.2", "7.36.2")' 2>/dev/null; then
    echo "check_mtcnn_models: setting up $VENV ($NUMPY_PIN $ONNX_PIN $PROTOBUF_PIN)"
    "$PY" -m venv "$VENV" || die "could not create a venv with $PY (install python3-venv)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$NUMPY_PIN" "$ONNX_PIN" "$PROTOBUF_PIN" \
        || die "pip install $NUMPY_PIN $ONNX_PIN $PROTOBUF_PIN failed"
fi

mkdir -p "$CACHE"
if [ ! -f "$CACHE/$WHEEL" ]; then
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --dest "$CACHE" "facenet-pytorch==2.6.0" \
        || die "pip download facenet-pytorch==2.6.0 failed"
fi
[ -f "$CACHE/$WHEEL" ] || die "$CACHE/$WHEEL missing after download"
got="$("$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$CACHE/$WHEEL")"
if [ "$got" != "$WHEEL_SHA256" ]; then
    rm -f "$CACHE/$WHEEL"
    die "$WHEEL has SHA-256 $got, expected $WHEEL_SHA256 (removed; rerun to download again)"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$VENV/bin/python" "$ROOT/tools/convert_mtcnn.py" --wheel "$CACHE/$WHEEL" --out-dir "$TMP" >/dev/null \
    || die "tools/convert_mtcnn.py failed"

status=0
for net in pnet rnet onet; do
    if cmp -s "$TMP/$net.onnx" "$ROOT/models/mtcnn/$net.onnx"; then
        echo "ok       models/mtcnn/$net.onnx"
    else
        echo "MISMATCH models/mtcnn/$net.onnx differs from the regenerated file" >&2
        status=1
    fi
done
if ! (cd "$ROOT/models/mtcnn" && sha256sum --quiet -c SHA256SUMS); then
    echo "MISMATCH models/mtcnn/SHA256SUMS" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "check_mtcnn_models: committed MTCNN models match the converter output"
exit "$status"
