#!/usr/bin/env python3
"""Convert dlib's face-recognition ResNet to ONNX and check it against dlib.

Reads ``dlib_face_recognition_resnet_model_v1.dat`` as shipped in the PyPI package
``face_recognition_models==0.3.0`` (model by Davis King, released CC0 / public domain)
and writes an opset-17 ONNX graph that computes the same 128-D face descriptor as
``dlib.face_recognition_model_v1.compute_face_descriptor``.

The ``.dat`` file is dlib's own serialisation of the ``anet_type`` network from
``examples/dnn_face_recognition_ex.cpp`` (including the ``loss_metric`` layer). It is
parsed here with a small reader written from dlib's documented format (``serialize.h``,
``cuda/tensor.h``, ``dnn/core.h``, ``dnn/layers.h``); every layer's type string and
hyper-parameters are checked against the expected architecture, and anything unexpected
aborts the conversion. Only ``numpy`` and ``onnx`` are needed to convert; ``--check``
also needs ``dlib``, ``onnxruntime`` and ``Pillow``.

Model contract:
  input  "chip"       float32 [N, 3, 150, 150]  RGB pixel values 0..255, NOT normalised.
                      The chip is what dlib.get_face_chip(img, shape5, size=150,
                      padding=0.25) returns (5-point landmarks), transposed to CHW.
  output "descriptor" float32 [N, 128]  the raw network output (dlib does not
                      L2-normalise it; its norm is close to 1 by training).
  The graph applies dlib's input normalisation itself: (pixel - mean_rgb) / 256 with
  the per-channel means stored in the .dat (122.782, 117.001, 104.298).

Usage:
    python3 tools/convert_dlib_resnet.py --out models/descriptor/dlib_resnet_v1.onnx
    python3 tools/convert_dlib_resnet.py --out models/descriptor/dlib_resnet_v1.onnx --check
"""

import argparse
import glob
import hashlib
import math
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DAT_NAME = "dlib_face_recognition_resnet_model_v1.dat"
DAT_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
CHIP_SIZE = 150
CHIP_PADDING = 0.25
OPSET = 17
IR_VERSION = 8  # fixed so the output bytes do not depend on the onnx version
PRODUCER = "faceless tools/convert_dlib_resnet.py"
TOLERANCE = 1e-4

DATASETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "datasets")
UTKFACE_GLOB = os.path.join(DATASETS, "utkface", "images", "*.jpg")
FAIRFACE_GLOB = os.path.join(DATASETS, "fairface_check", "*.jpg")


# --------------------------------------------------------------------------------------------
# Architecture (top of the network first, the order in which dlib serialises it)
# --------------------------------------------------------------------------------------------

def _block(n, stride):
    """block<N,affine,stride> = affine<con<N,3,3,1,1,relu<affine<con<N,3,3,stride,stride>>>>>."""
    return [("affine",), ("con", n, 3, 1), ("relu",), ("affine",), ("con", n, 3, stride)]


def _ares(n):
    """relu<add_prev1<block<N,1,tag1<SUBNET>>>>."""
    return [("relu",), ("add_prev", 1)] + _block(n, 1) + [("tag", 1)]


def _ares_down(n):
    """relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<SUBNET>>>>>>>."""
    return ([("relu",), ("add_prev", 2), ("avg_pool", 2, 2), ("skip", 1), ("tag", 2)]
            + _block(n, 2) + [("tag", 1)])


def architecture():
    """The layers of anet_type below loss_metric, top first; the last one sits on the input."""
    levels = ([_ares_down(256)]                                            # level0
              + [_ares(256), _ares(256), _ares_down(256)]                  # level1
              + [_ares(128), _ares(128), _ares_down(128)]                  # level2
              + [_ares(64), _ares(64), _ares(64), _ares_down(64)]          # level3
              + [_ares(32), _ares(32), _ares(32)])                         # level4
    layers = [("fc", 128), ("avg_pool", 0, 1)]
    for level in levels:
        layers += level
    return layers + [("max_pool", 3, 2), ("relu",), ("affine",), ("con", 32, 7, 2)]


# --------------------------------------------------------------------------------------------
# dlib serialisation reader
# --------------------------------------------------------------------------------------------

class FormatError(Exception):
    pass


class Reader:
    """Sequential reader for dlib's portable serialisation format."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise FormatError(f"unexpected end of file at byte {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self):
        """Integer: control byte (bit 7 = negative, low 4 bits = byte count), then LE bytes."""
        ctrl = self._take(1)[0]
        size = ctrl & 0x0F
        if ctrl & 0x70 or not 1 <= size <= 8:
            raise FormatError(f"bad integer control byte 0x{ctrl:02x} at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if ctrl & 0x80 else value

    def uint(self):
        value = self.int()
        if value < 0:
            raise FormatError(f"negative value {value} for an unsigned field at byte {self.pos}")
        return value

    def float(self):
        """Floating point: mantissa then exponent (value = mantissa * 2**exponent)."""
        mantissa, exponent = self.int(), self.int()
        if exponent >= 32000:  # dlib's markers for inf, -inf and nan
            raise FormatError(f"non-finite float (exponent marker {exponent}) at byte {self.pos}")
        return math.ldexp(mantissa, exponent)

    def bool(self):
        ch = self._take(1)
        if ch not in (b"0", b"1"):
            raise FormatError(f"bad bool byte {ch!r} at byte {self.pos - 1}")
        return ch == b"1"

    def string(self):
        return self._take(self.uint()).decode("ascii")

    def expect_int(self, allowed, what):
        value = self.int()
        if value not in allowed:
            raise FormatError(f"{what}: version {value} not in {allowed} at byte {self.pos}")
        return value

    def expect_string(self, allowed, what):
        value = self.string()
        if value not in allowed:
            raise FormatError(f"{what}: found {value!r}, expected one of {allowed}")
        return value

    def tensor(self):
        """resizable_tensor v2: dims (n, k, nr, nc) then little-endian float32 data."""
        self.expect_int((2,), "tensor")
        dims = tuple(self.int() for _ in range(4))
        count = int(np.prod(dims))
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32).reshape(dims)

    def alias_tensor(self):
        """alias_tensor v1: only the dims (n, k, nr, nc)."""
        self.expect_int((1,), "alias_tensor")
        return tuple(self.int() for _ in range(4))


def _check(cond, message):
    if not cond:
        raise FormatError(message)


def read_con(r, spec):
    _, n, size, stride = spec
    r.expect_string(("con_4",), "con_")
    params = r.tensor().ravel()
    num_filters, nr, nc = r.int(), r.int(), r.int()
    sy, sx, py, px = r.int(), r.int(), r.int(), r.int()
    fdims, bdims = r.alias_tensor(), r.alias_tensor()
    for _ in range(4):  # learning-rate / weight-decay multipliers
        r.float()
    pad = 0 if stride != 1 else size // 2  # dlib's default padding
    _check((num_filters, nr, nc, sy, sx, py, px) == (n, size, size, stride, stride, pad, pad),
           f"con_: got filters={num_filters} {nr}x{nc} stride={sy},{sx} pad={py},{px}, "
           f"expected {n} {size}x{size} stride={stride} pad={pad}")
    _check(fdims[0] == n and fdims[2:] == (size, size), f"con_: filter dims {fdims}")
    nfw = int(np.prod(fdims))
    _check(bdims == (1, n, 1, 1) and params.size == nfw + n, f"con_: {params.size} params for {fdims}")
    return {"weights": params[:nfw].reshape(fdims), "bias": params[nfw:], "stride": stride, "pad": pad}


def read_affine(r):
    """affine_ (y = gamma * x + beta per channel; dlib folded the trained bn_ into it)."""
    r.expect_string(("affine_",), "affine_")
    params = r.tensor().ravel()
    gdims, bdims = r.alias_tensor(), r.alias_tensor()
    mode = r.int()
    k = gdims[1]
    _check(mode == 0, f"affine_: mode {mode}, expected CONV_MODE (0)")
    _check(gdims == (1, k, 1, 1) and bdims == gdims and params.size == 2 * k,
           f"affine_: per-channel gamma/beta expected, got {gdims}, {bdims}, {params.size}")
    return {"gamma": params[:k], "beta": params[k:]}


def read_relu(r):
    r.expect_string(("relu_",), "relu_")
    return {}


def read_pool(r, spec, kind):
    _, size, stride = spec
    r.expect_string((f"{kind}_2",), f"{kind}_")
    nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
    pad = 0 if stride != 1 else size // 2
    _check((nr, nc, sy, sx, py, px) == (size, size, stride, stride, pad, pad),
           f"{kind}_: got {nr}x{nc} stride={sy},{sx} pad={py},{px}, "
           f"expected {size}x{size} stride={stride} pad={pad}")
    return {"size": size, "stride": stride}


def read_fc(r, spec):
    r.expect_string(("fc_2",), "fc_")
    num_outputs, num_inputs = r.uint(), r.uint()
    params = r.tensor().ravel()
    wdims, _ = r.alias_tensor(), r.alias_tensor()
    bias_mode = r.int()
    for _ in range(4):
        r.float()
    _check(num_outputs == spec[1] and bias_mode == 1, f"fc_: {num_outputs} outputs, bias mode {bias_mode}")
    _check(wdims[:2] == (num_inputs, num_outputs) and params.size == num_inputs * num_outputs,
           f"fc_: weight dims {wdims}, {params.size} params")
    # y = x @ W with W stored row-major as [num_inputs, num_outputs]
    return {"weights": params.reshape(num_inputs, num_outputs)}


def read_details(r, spec):
    kind = spec[0]
    if kind == "con":
        return read_con(r, spec)
    if kind == "affine":
        return read_affine(r)
    if kind == "relu":
        return read_relu(r)
    if kind in ("max_pool", "avg_pool"):
        return read_pool(r, spec, kind)
    if kind == "add_prev":
        r.expect_string(("add_prev_",), "add_prev_")
        return {}
    if kind == "fc":
        return read_fc(r, spec)
    raise AssertionError(kind)


def read_input_layer(r):
    r.expect_string(("input_rgb_image_sized",), "input layer")
    means = np.array([r.float() for _ in range(3)], dtype=np.float32)
    size = (r.uint(), r.uint())
    _check(size == (CHIP_SIZE, CHIP_SIZE), f"input_rgb_image_sized: size {size}")
    return means


def read_add_layer_tail(r, on_input):
    """Training state serialised after each layer's details; read and dropped."""
    r.bool(), r.bool(), r.bool()
    r.tensor(), r.tensor(), r.tensor()  # x_grad, cached_output, params_grad / grad_final
    if on_input:
        r.uint()  # sample_expansion_factor (add_layer v3 on the input layer)


def parse_network(data):
    """Parse the serialised loss_metric network; returns (input means, layers top first)."""
    r = Reader(data)
    r.expect_int((1,), "add_loss_layer")
    r.expect_string(("loss_metric_2",), "loss layer")
    r.float(), r.float()  # margin, distance threshold: training only
    specs = architecture()
    # Serialisation is nested: every wrapper writes its version, then its subnetwork, then
    # its own details. So all versions come first (top down), then details (bottom up).
    bottom = len(specs) - 1
    for i, spec in enumerate(specs):
        if spec[0] in ("tag", "skip"):
            r.expect_int((1,), spec[0])
        else:
            r.expect_int((3,) if i == bottom else (2,), "add_layer")
    means = read_input_layer(r)
    layers = [None] * len(specs)
    for i in reversed(range(len(specs))):
        if specs[i][0] in ("tag", "skip"):
            layers[i] = (specs[i], {})
            continue
        layers[i] = (specs[i], read_details(r, specs[i]))
        read_add_layer_tail(r, on_input=i == bottom)
    _check(r.pos == len(data), f"{len(data) - r.pos} trailing bytes after the network")
    return means, layers


# --------------------------------------------------------------------------------------------
# ONNX graph
# --------------------------------------------------------------------------------------------

class GraphBuilder:
    """Builds the graph bottom-up, tracking each tensor's static (C, H, W) like dlib does."""

    def __init__(self):
        self.nodes, self.inits = [], []
        self.count = 0

    def const(self, array, name=None):
        name = name or f"param_{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, **attrs):
        self.count += 1
        out = f"{op.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, shape, p):
        w, s, pad = p["weights"], p["stride"], p["pad"]
        _check(w.shape[1] == shape[0], f"con_: {w.shape[1]} input channels, got {shape[0]}")
        y = self.node("Conv", [x, self.const(w), self.const(p["bias"])],
                      kernel_shape=list(w.shape[2:]), strides=[s, s], pads=[pad] * 4)
        h, wd = ((d + 2 * pad - w.shape[2]) // s + 1 for d in shape[1:])
        return y, (w.shape[0], h, wd)

    def affine(self, x, shape, p):
        k = shape[0]
        _check(p["gamma"].size == k, f"affine_: {p['gamma'].size} channels, got {k}")
        y = self.node("Mul", [x, self.const(p["gamma"].reshape(1, k, 1, 1))])
        return self.node("Add", [y, self.const(p["beta"].reshape(1, k, 1, 1))])

    def pool(self, op, x, shape, size, stride):
        y = self.node(op, [x], kernel_shape=[size, size], strides=[stride, stride])
        return y, (shape[0],) + tuple((d - size) // stride + 1 for d in shape[1:])

    def pad_to(self, x, shape, target):
        """Zero-pad at the high end of C, H and W, as dlib's tt::add does for mismatched sizes."""
        if shape == target:
            return x
        pads = [0] * 5 + [t - s for s, t in zip(shape, target)]
        return self.node("Pad", [x, self.const(np.array(pads, np.int64))])

    def add_prev(self, a, sa, b, sb):
        target = tuple(max(u, v) for u, v in zip(sa, sb))
        return self.node("Add", [self.pad_to(a, sa, target), self.pad_to(b, sb, target)]), target


def build_onnx(means, layers, dat_sha256):
    g = GraphBuilder()
    scale = np.float32(1.0 / 256.0)  # exact power of two, same as dlib's /256.0
    x = g.node("Sub", ["chip", g.const(means.reshape(1, 3, 1, 1), "rgb_mean")])
    x = g.node("Mul", [x, g.const(np.array(scale, np.float32), "input_scale")])
    shape = (3, CHIP_SIZE, CHIP_SIZE)
    tags = {}
    for spec, p in reversed(layers):
        kind = spec[0]
        if kind == "con":
            x, shape = g.conv(x, shape, p)
        elif kind == "affine":
            x = g.affine(x, shape, p)
        elif kind == "relu":
            x = g.node("Relu", [x])
        elif kind == "max_pool":
            x, shape = g.pool("MaxPool", x, shape, p["size"], p["stride"])
        elif kind == "avg_pool" and p["size"] == 0:
            x, shape = g.node("GlobalAveragePool", [x]), (shape[0], 1, 1)
        elif kind == "avg_pool":
            x, shape = g.pool("AveragePool", x, shape, p["size"], p["stride"])
        elif kind == "tag":
            tags[spec[1]] = (x, shape)
        elif kind == "skip":
            x, shape = tags[spec[1]]
        elif kind == "add_prev":
            x, shape = g.add_prev(x, shape, *tags[spec[1]])
        elif kind == "fc":
            _check(p["weights"].shape[0] == int(np.prod(shape)), "fc_: input size mismatch")
            x = g.node("Flatten", [x], axis=1)
            g.nodes.append(helper.make_node("MatMul", [x, g.const(p["weights"], "fc_weights")],
                                            ["descriptor"], name="fc"))
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_v1",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, ["N", 3, CHIP_SIZE, CHIP_SIZE])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, producer_name=PRODUCER, producer_version="1")
    model.doc_string = ("dlib face recognition ResNet v1 (face_recognition_models 0.3.0, CC0). "
                        "Input: RGB 0..255 dlib face chip, size 150, padding 0.25, NCHW. "
                        "Output: 128-D descriptor, not normalised.")
    helper.set_model_props(model, {"source": f"face_recognition_models==0.3.0/{DAT_NAME}",
                                   "source_sha256": dat_sha256, "license": "CC0-1.0"})
    onnx.checker.check_model(model)
    return model


def convert(dat_path, out_path):
    data = open(dat_path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    print(f"read {dat_path}\n  sha256 {digest}")
    if digest != DAT_SHA256:
        sys.exit(f"error: sha256 differs from the pinned face_recognition_models 0.3.0 file {DAT_SHA256}")
    means, layers = parse_network(data)
    model = build_onnx(means, layers, digest)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    onnx.save(model, out_path)
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes, {len(model.graph.node)} nodes)")


# --------------------------------------------------------------------------------------------
# Parity check against dlib
# --------------------------------------------------------------------------------------------

def make_chips(max_utk=20, max_fairface=5):
    """dlib face chips (150x150 RGB uint8) from real photos via HOG detector + 5 landmarks."""
    import dlib
    import face_recognition_models
    from PIL import Image
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    chips = []
    for pattern, limit in ((UTKFACE_GLOB, max_utk), (FAIRFACE_GLOB, max_fairface)):
        taken = 0
        for path in sorted(glob.glob(pattern)):
            if taken == limit:
                break
            img = np.asarray(Image.open(path).convert("RGB"))
            dets = detector(img, 1)
            if not dets:
                continue
            box = max(dets, key=lambda d: d.area())
            chip = dlib.get_face_chip(img, predictor(img, box), size=CHIP_SIZE, padding=CHIP_PADDING)
            chips.append((os.path.basename(path), chip))
            taken += 1
    return chips


def check(dat_path, onnx_path):
    import dlib
    import onnxruntime as ort
    chips = make_chips()
    if not chips:
        sys.exit("error: no faces found in the check images")
    net = dlib.face_recognition_model_v1(dat_path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    worst, times = 0.0, []
    for name, chip in chips:
        # The aligned-chip overload; num_jitters=0 runs the network once on the chip as is.
        ref = np.array(net.compute_face_descriptor(chip, 0), dtype=np.float64)
        x = np.ascontiguousarray(chip.transpose(2, 0, 1)[None], dtype=np.float32)
        t0 = time.perf_counter()
        got = sess.run(["descriptor"], {"chip": x})[0][0]
        times.append(time.perf_counter() - t0)
        diff = float(np.abs(got - ref).max())
        worst = max(worst, diff)
        print(f"  {name:60s} max|diff| {diff:.2e}  |dlib| {np.linalg.norm(ref):.4f}")
    batch = np.stack([c.transpose(2, 0, 1) for _, c in chips]).astype(np.float32)
    batched = sess.run(["descriptor"], {"chip": batch})[0]
    single = np.stack([sess.run(["descriptor"], {"chip": b[None]})[0][0] for b in batch])
    batch_diff = float(np.abs(batched - single).max())
    for _ in range(3):  # steadier timing after warm-up
        for _, chip in chips[:5]:
            x = np.ascontiguousarray(chip.transpose(2, 0, 1)[None], dtype=np.float32)
            t0 = time.perf_counter()
            sess.run(["descriptor"], {"chip": x})
            times.append(time.perf_counter() - t0)
    print(f"{len(chips)} chips: overall max|onnx - dlib| = {worst:.2e} (tolerance {TOLERANCE:g})")
    print(f"batch of {len(chips)} vs one-by-one: max|diff| = {batch_diff:.2e}")
    print(f"onnxruntime, batch 1, 1 thread: median {1e3 * float(np.median(times)):.1f} ms/chip")
    if worst > TOLERANCE or batch_diff > TOLERANCE:
        sys.exit("error: parity check FAILED")
    print("parity check passed")


def default_dat_path():
    try:
        import face_recognition_models
    except ImportError:
        return None
    return face_recognition_models.face_recognition_model_location()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dat", default=default_dat_path(),
                    help=f"path to {DAT_NAME} (default: from the face_recognition_models package)")
    ap.add_argument("--out", default="models/descriptor/dlib_resnet_v1.onnx")
    ap.add_argument("--check", action="store_true",
                    help="after converting, compare with dlib on real face chips")
    args = ap.parse_args()
    if not args.dat:
        sys.exit("error: pass --dat or install face_recognition_models==0.3.0")
    convert(args.dat, args.out)
    if args.check:
        check(args.dat, args.out)


if __name__ == "__main__":
    main()
