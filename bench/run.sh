#!/usr/bin/env bash
# Speed and memory of the Faceless detector against its reference,
# facenet-pytorch's MTCNN, measured in the same run on the same images with
# the same thread count. Run on demand (never in CI): `make bench`.
#
#   bench/run.sh [--threads N] [--reps N] [IMAGE...]
#
# Images default to ../shared/datasets/photos/*.jpg and tests/data/astronaut.png.
# The peer needs torch 2.2.2 + facenet-pytorch 2.6.0: set BENCH_PYTHON to a
# python that has them, or this script creates .venv-bench/ (~2.8 GB of wheels).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads=1; reps=10; images=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --reps) reps="$2"; shift 2 ;;
        *) images+=("$1"); shift ;;
    esac
done
if [ ${#images[@]} -eq 0 ]; then
    images=(tests/data/astronaut.png)
    for f in ../shared/datasets/photos/*.jpg; do [ -f "$f" ] && images+=("$f"); done
fi

py="${BENCH_PYTHON:-}"
if [ -z "$py" ]; then
    py="$root/.venv-bench/bin/python"
    if ! "$py" -c "import facenet_pytorch, torch, onnxruntime" 2>/dev/null; then
        python3 -m venv .venv-bench
        .venv-bench/bin/pip install -q torch==2.2.2 torchvision==0.17.2 facenet-pytorch==2.6.0 "numpy<2" Pillow==10.2.0 onnxruntime==1.31.1
    fi
fi

tools/fetch_onnxruntime.sh >/dev/null
export ORT_DYLIB_PATH="$root/.runtime/libonnxruntime.so.1.31.1"
cargo build --release --quiet --bench detect 2>/dev/null || true
ours=$(cargo bench --quiet --bench detect -- --threads "$threads" --reps "$reps" "${images[@]}")
peer=$("$py" bench/peers.py --threads "$threads" --reps "$reps" "${images[@]}")

python3 - "$threads" "$reps" <<PY
import json, os, sys
ours = [json.loads(l) for l in """$ours""".splitlines() if l.strip()]
peer = {json.loads(l)["image"]: json.loads(l) for l in """$peer""".splitlines() if l.strip()}
print(f"threads {sys.argv[1]}, median of {sys.argv[2]} runs per image; ratio = facenet-pytorch / faceless (>1: faceless faster)")
print(f"{'image':28s} {'faces':>5s} {'facenet':>5s} {'faceless detect ms':>18s} {'facenet-pytorch ms':>18s} {'ratio':>6s} {'faceless analyze ms':>19s}")
rs = []
for o in ours:
    p = peer[o["image"]]
    r = p["detect_ms"] / o["detect_ms"]; rs.append(r)
    print(f"{os.path.basename(o['image']):28s} {o['faces']:5d} {p['faces']:5d} {o['detect_ms']:18.1f} {p['detect_ms']:18.1f} {r:6.2f} {o['analyze_ms']:19.1f}")
import statistics
print(f"{'geometric mean ratio':28s} {'':5s} {'':5s} {'':18s} {'':18s} {statistics.geometric_mean(rs):6.2f}")
print(f"peak resident memory: faceless {ours[-1]['peak_rss_mib']:.0f} MiB (detector + pipeline), facenet-pytorch {max(p['peak_rss_mib'] for p in peer.values()):.0f} MiB; ratio {max(p['peak_rss_mib'] for p in peer.values()) / ours[-1]['peak_rss_mib']:.2f}")
PY

# The classifier options: cost per face against accuracy (training/report/cost.json, MODEL_CARD.md).
cargo build --release --quiet
"$py" bench/classifier.py --reps "$((reps * 20))"
