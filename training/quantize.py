"""The backbones the shipped classifier runs: int8 weights and activations.

    python -m training.quantize [--classifier accurate|fast] [--members K] [--calibration 200]

The float graph of training.backbones is several times slower than needed on
one thread: the UTKFace CNN runs five members on the chip and on its mirror
image, and dlib's ResNet and the MobileNet run in float. This step builds the same
backbones with the CNN's members run once each (no mirror pass), and
quantises the whole graph with ONNX Runtime's static QDQ quantisation:
int8 per-channel weights, uint8 activations whose ranges (MinMax) come from
`--calibration` training chips picked with a fixed seed. The resize and
normalisation in front of each network stay float, and so do the MobileNet's
high-resolution convolution blocks (`FLOAT_BLOCKS`: its first two in `accurate`;
its stem and first two in `fast`) and its pooling and dense layers
(`float_tail`). `--classifier fast` does the same for the `fast` classifier's
networks (training.backbones.NETWORKS).

The heads are fitted on the float features (training.features on
training/out/backbones.onnx) and measured on this graph's features; the float
graph's figures are kept beside them (training.heads, "float_reference").
"""
import argparse
import csv
import json
import os
import re
import tempfile

import numpy as np
import onnx
import onnx.utils
from onnx import TensorProto, helper, numpy_helper

from training import backbones
from training.features import load_chip

CNN_OUTPUTS = ["age_group_logits", "gender_logits", "ethnicity_logits", "age_years"]
# The MobileNet's convolution blocks kept float, per classifier; 0 is its stem (conv1), 1 to 13 its
# depthwise-separable blocks. Blocks 1 and 2 in int8 would cost external accuracy; from block 3 on,
# int8 saves time at no cost in validation accuracy. The stem is float in `fast` (faster there on
# CPUs with VNNI, 3 input channels) and int8 in `accurate` (training/README.md).
FLOAT_BLOCKS = {"accurate": (1, 2), "fast": (0, 1, 2)}


def member_outputs(i):
    """Member i's four outputs on the unmirrored chip, as named in the exported CNN."""
    return [f"/net/members.{i}/age_group/age_group.3/Gemm_output_0",
            f"/net/members.{i}/gender/gender.3/Gemm_output_0",
            f"/net/members.{i}/ethnicity/ethnicity.3/Gemm_output_0",
            f"/net/members.{i}/Add_output_0"]


def cnn_members(src, k, out):
    """The UTKFace CNN with its first k members, each run once on the chip: the mean of their
    outputs under the ensemble's output names (the exported graph also averages a mirror pass)."""
    names = [n for i in range(k) for n in member_outputs(i)]
    onnx.utils.extract_model(src, out, ["input"], names)
    m = onnx.load(out)
    g = m.graph
    del g.output[:]
    g.initializer.append(numpy_helper.from_array(np.array(1.0 / k, np.float32), "members/inv_k"))
    widths = {"age_group_logits": 12, "gender_logits": 2, "ethnicity_logits": 5}
    for j, name in enumerate(CNN_OUTPUTS):
        g.node.extend([helper.make_node("Sum", names[j::4], [f"members/{name}/sum"]),
                       helper.make_node("Mul", [f"members/{name}/sum", "members/inv_k"], [name])])
        shape = ["N", widths[name]] if name in widths else ["N"]
        g.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    onnx.checker.check_model(m)
    onnx.save(m, out)


def calibration_chips(chips_dir, split_csv, n, seed):
    with open(split_csv, newline="") as f:
        train = [r["file"] for r in csv.DictReader(f) if r["split"] == "train"]
    pick = np.random.default_rng(seed).choice(len(train), n, replace=False)
    chips = []
    for i in pick:
        chip, aligned = load_chip(os.path.join(chips_dir, train[i]))
        if aligned:
            chips.append(chip.transpose(2, 0, 1)[None].astype(np.float32))
    return chips


def float_tail(model, blocks):
    """The MobileNet's global pooling and the dense layers after it, and its convolution blocks
    `blocks` (0 the stem, 1 to 13 the depthwise-separable blocks), kept float. Its 1024 pooled
    features go straight into the heads; in 8 bits the pooling and dense layers cost about one
    point of external gender and the whole MobileNet 1.5 points, most of it in its first
    blocks (training/README.md)."""
    tail = ("global_pooling", "feats/", "gender_pred", "age_pred")

    def kept(name):
        block = re.match(r"faceres/conv(?:_(?:dw|pw)_(\d+)[_/]|1_)", name)
        return (block and int(block.group(1) or 0) in blocks) or any(t in name for t in tail)
    return [n.name for n in model.graph.node if n.name.startswith("faceres/") and kept(n.name)]


def quantise(float_path, out, chips, exclude=(), reduce_range=False):
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(chips)

        def get_next(self):
            c = next(self.it, None)
            return None if c is None else {"input": c}

    with tempfile.TemporaryDirectory() as tmp:
        # Folds dlib's affine layers into its convolutions, so they quantise as one op.
        pre = os.path.join(tmp, "pre.onnx")
        quant_pre_process(float_path, pre, skip_symbolic_shape=True)
        quantize_static(pre, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=list(exclude),
                        reduce_range=reduce_range)
    m = onnx.load(out)
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classifier", choices=sorted(backbones.NETWORKS), default="accurate", help="whose networks")
    ap.add_argument("--out", default="training/out/backbones-int8.onnx")
    ap.add_argument("--work", default="training/out/pretrained")
    ap.add_argument("--template", default="training/out/input_template.json")
    ap.add_argument("--cnn", default="models/backbones/utkface-cnn")
    ap.add_argument("--members", type=int, help="UTKFace CNN members kept (each run once; default: the classifier's)")
    ap.add_argument("--chips", default="training/out/chips186")
    ap.add_argument("--split-csv", default="training/report/manifest.csv")
    ap.add_argument("--calibration", type=int, default=200, help="training chips that set the activation ranges")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--float-blocks", type=lambda v: [int(x) for x in v.split(",") if x],
                    help="MobileNet convolution blocks kept float (comma-separated, 0 the stem; '' for none; "
                         "default: the classifier's, FLOAT_BLOCKS)")
    ap.add_argument("--reduce-range", action="store_true",
                    help="7-bit weights: ONNX Runtime's u8 x s8 kernels on CPUs without VNNI then cannot saturate")
    a = ap.parse_args(argv)
    spec = backbones.NETWORKS[a.classifier]
    a.members = a.members or spec["members"]
    if a.float_blocks is None:
        a.float_blocks = FLOAT_BLOCKS[a.classifier]
    with open(a.cnn + ".json") as f:
        cnn_manifest = json.load(f)
    with open(a.template) as f:
        template = json.load(f)["alignment"]["landmarks"]
    chips = calibration_chips(a.chips, a.split_csv, a.calibration, a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cnn = os.path.join(tmp, "cnn.onnx")
        cnn_members(a.cnn + ".onnx", a.members, cnn)
        paths = {"dlib": os.path.join(a.work, "dlib_resnet_v1.onnx"),
                 "agegender_gender": os.path.join(a.work, "gender-v1.onnx"),
                 "agegender_age": os.path.join(a.work, "age-v1.onnx"), "utkface_cnn": cnn,
                 "faceres": os.path.join(a.work, "faceres.onnx")}
        model, _ = backbones.build({k: paths[k] for k in spec["networks"]}, cnn_manifest, template,
                                   spec["faceres_size"])
        float_path = os.path.join(tmp, "float.onnx")
        onnx.save(model, float_path)
        exclude = float_tail(model, a.float_blocks)
        quantise(float_path, a.out, chips, exclude, a.reduce_range)
    info = {"members": a.members, "mirror": False, "calibration_chips": len(chips), "seed": a.seed,
            "float_blocks": list(a.float_blocks),
            "float_nodes": exclude, "reduce_range": a.reduce_range,
            "method": "onnxruntime.quantization.quantize_static, QDQ, per-channel int8 weights"
                      + (" in 7 bits (reduce_range)" if a.reduce_range else "") + ", uint8 activations, MinMax calibration"}
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(f"[quantize] wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB): {info}")


if __name__ == "__main__":
    main()
