#!/usr/bin/env bash
# The referee: speed and memory of Faceless against its reference,
# facenet-pytorch's MTCNN, and against the limit, the CPU time ONNX Runtime
# alone spends in our networks for the same inputs. Everything is measured
# in the same run, on the same images, at 1 and 2 threads, one process per
# configuration (so each peak RSS is its own). Run on demand, never in CI:
# `make bench`. Writes the README's speed table (between its bench-table
# markers) and target/bench/results.jsonl.
#
#   bench/run.sh [--reps N] [--rounds R] [--flat N] [--no-readme] [IMAGE...]
#
# Every configuration (ours and the peer's) is measured in R rounds (default 3),
# each round running them all in turn, and the table takes each one's median
# round: a burst of other load on a shared machine spoils one round, not the
# comparison. REPS (default 4; an even count, so that two threads end a pass
# together) is the passes over the images in one round.
#
# Workloads: the photo set (IMAGEs; default tests/data/astronaut.png and
# ../shared/datasets/photos/*.jpg), and one 1920x1080 and one 3840x2160
# photo made here (target/bench/, not committed) from BENCH_SOURCE (default
# ../shared/datasets/photos/facenet_multiface.jpg, else the first IMAGE).
# --flat N: RSS growth over N images through one pipeline (default 2000).
# The peer needs torch 2.2.2 + facenet-pytorch 2.6.0 (and onnx 1.16.2 for
# bench/classifier.py): set BENCH_PYTHON to a
# python that has them, or this script creates .venv-bench/ (~2.8 GB of wheels).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
reps=4; rounds=3; flat=2000; readme=1; images=()
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --flat) flat="$2"; shift 2 ;;
        --no-readme) readme=0; shift ;;
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
    if ! "$py" -c "import facenet_pytorch, torch, onnxruntime, onnx" 2>/dev/null; then
        python3 -m venv .venv-bench
        # onnx: bench/classifier.py cuts the pretrained networks out of the training's graph.
        .venv-bench/bin/pip install -q torch==2.2.2 torchvision==0.17.2 facenet-pytorch==2.6.0 "numpy<2" Pillow==10.2.0 onnxruntime==1.31.1 onnx==1.16.2
    fi
fi

tools/fetch_onnxruntime.sh >/dev/null
export ORT_DYLIB_PATH="$root/.runtime/libonnxruntime.so.1.31.1"
cargo build --release --quiet --bins
cargo build --release --quiet --bench throughput
ours=$(ls -t target/release/deps/throughput-* | grep -v '\.d$' | head -n1)

# The 1080p and 4K photos, cover-cropped and resized.
out=target/bench
mkdir -p "$out"
source="${BENCH_SOURCE:-../shared/datasets/photos/facenet_multiface.jpg}"
[ -f "$source" ] || source="${images[0]}"
"$py" - "$source" "$out" <<'PY'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
for name, (w, h) in [("photo_1080p", (1920, 1080)), ("photo_4k", (3840, 2160))]:
    r = max(w / im.width, h / im.height)
    big = im.resize((round(im.width * r), round(im.height * r)), Image.LANCZOS)
    l, t = (big.width - w) // 2, (big.height - h) // 2
    big.crop((l, t, l + w, t + h)).save(f"{out}/{name}.jpg", quality=90)
PY

results="$out/results.jsonl"
: > "$results"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load before: $(load)" >&2
run_set() {  # round name reps image...
    local round="$1" name="$2" n="$3"; shift 3
    local tag="{\"set\": \"$name\", \"round\": $round, "
    for t in 1 2; do
        for mode in detect analyze analyze-fast; do
            "$ours" --mode "$mode" --threads "$t" --reps "$n" "$@" | sed "s/^{/$tag/" >> "$results"
        done
        "$py" bench/peers.py --threads "$t" --reps "$n" "$@" | sed "s/^{/$tag/" >> "$results"
        echo "round $round: $name, $t thread(s) done; load $(load)" >&2
    done
}
for round in $(seq 1 "$rounds"); do
    run_set "$round" photos "$reps" "${images[@]}"
    run_set "$round" 1080p "$reps" "$out/photo_1080p.jpg"
    run_set "$round" 4k "$(( (reps + 1) / 2 ))" "$out/photo_4k.jpg"
done
# What an application sees: the CLI on one photo, all cores (start-up included).
for f in photo_1080p photo_4k; do
    for cmd in detect analyze analyze-fast; do
        args=("$cmd"); [ "$cmd" = analyze-fast ] && args=(analyze --classifier fast)
        kb=$( { /usr/bin/time -f '%M' target/release/faceless "${args[@]}" "$out/$f.jpg" >/dev/null; } 2>&1 | tail -n1)
        echo "{\"set\": \"cli\", \"mode\": \"$cmd\", \"image\": \"$f\", \"peak_rss_mib\": $(( kb / 1024 ))}" >> "$results"
    done
done
if [ "$flat" -gt 0 ]; then
    "$ours" --flat "$flat" --threads 2 "${images[@]}" | sed 's/^{/{"set": "flat", /' >> "$results"
fi
echo "load after: $(load)" >&2

"$py" bench/table.py "$results" "$(load)" "$readme"

# The classifier options: cost per face against accuracy (training/report/cost.json, MODEL_CARD.md).
"$py" bench/classifier.py --reps "$((reps * rounds * 10))"
