#!/usr/bin/env python3
"""Convert facenet-pytorch 2.6.0's pretrained MTCNN weights to ONNX.

Reads ``facenet_pytorch/data/{pnet,rnet,onet}.pt`` straight out of the
facenet-pytorch wheel (a zip file) and writes ``pnet.onnx``, ``rnet.onnx`` and
``onet.onnx`` (opset 17) that reproduce facenet-pytorch's ``PNet``, ``RNet`` and
``ONet`` modules (``facenet_pytorch/models/mtcnn.py``) with three rewrites that
keep ONNX Runtime's CPU convolutions in their blocked channel layout from the
first convolution to the last (each leaves it costs two layout copies of the
tensor; models/mtcnn/README.md has the timings):

- each PReLU is spelled with ops that stay in that layout, the same value bit
  for bit (``_Builder.prelu``);
- a convolution with a channel count that is not a multiple of 16 (P-Net's
  first, 10; R-Net's first, 28) gets zero filters up to the next multiple, and
  the next convolution zero weights for them (``pad_channels``): the padded
  channels are 0 everywhere and add exact zeros;
- P-Net's two 1x1 heads are one convolution whose fifth channel is the face
  logit minus the non-face logit, so that the face probability, softmax's
  second channel, is its logistic sigmoid (``build_pnet``).

torch is NOT needed: the ``.pt`` files are parsed with ``pickle`` + ``numpy``
(both torch serialisation formats are handled: the legacy pickle stream that
these files use, and the newer zip archive). Only ``numpy`` and ``onnx`` are
required. The output is byte-for-byte deterministic.

Usage:
    python3 tools/convert_mtcnn.py --wheel facenet_pytorch-2.6.0-py3-none-any.whl \
        [--out-dir models/mtcnn] [--verify]

``--verify`` additionally compares the ONNX models (run with onnxruntime) with
facenet-pytorch's own torch modules on random inputs; it needs torch,
facenet-pytorch and onnxruntime importable.

Model contract (what the Rust detector relies on):
  pnet.onnx  input  "input" float32 [N, 3, H, W]  (RGB, NCHW, (pixel - 127.5) * 0.0078125)
             output "cells" [N, 5, h, w]: channels 0-3 the box offsets (facenet's "reg"),
             channel 4 the face margin m, face probability 1 / (1 + exp(-m)) (facenet's
             softmax "prob"[:, 1])
  rnet.onnx  input  "input" [N, 3, 24, 24] -> "reg" [N, 4], "prob" [N, 2]
  onet.onnx  input  "input" [N, 3, 48, 48] -> "reg" [N, 4], "landmarks" [N, 10]
             (5 x's then 5 y's, relative to the box), "prob" [N, 2]
"""

import argparse
import collections
import hashlib
import io
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Pinned provenance. The wheel is what `pip download facenet-pytorch==2.6.0 --no-deps` fetches.
WHEEL_NAME = "facenet_pytorch-2.6.0-py3-none-any.whl"
WHEEL_SHA256 = "ecb82b27beb226d106f2219efe8f829b01b87a8595badd01545679bdb9f19cca"
PT_SHA256 = {
    "pnet": "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f",
    "rnet": "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86",
    "onet": "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d",
}

OPSET = 17
IR_VERSION = 8  # fixed (not onnx's default) so the bytes do not depend on the onnx version
PRODUCER = "faceless tools/convert_mtcnn.py"
PRODUCER_VERSION = "2"
# ONNX Runtime's blocked layout holds channels in blocks of 16 (8 without AVX-512).
CHANNEL_BLOCK = 16


# --------------------------------------------------------------------------------------------
# torch serialisation reader (no torch)
# --------------------------------------------------------------------------------------------

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    def __init__(self, name):
        if name not in _STORAGE_DTYPES:
            raise ValueError("unsupported torch storage type %s" % name)
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name]).newbyteorder("<")


class _Storage:
    """A lazily filled flat storage (legacy format: data follows the pickle)."""

    def __init__(self, stype, key, numel):
        self.stype = stype
        self.key = key
        self.numel = numel
        self.array = None


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def to_numpy(self):
        arr = self.storage.array
        if arr is None:
            raise ValueError("storage %s has no data" % self.storage.key)
        itemsize = arr.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            arr[self.offset:], shape=self.size, strides=[s * itemsize for s in self.stride]
        )
        return np.ascontiguousarray(view).astype(arr.dtype.newbyteorder("="), copy=False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *rest):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *rest):
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError("refusing to load %s.%s" % (module, name))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent id %r" % (pid,))
        _, stype, key, _location, numel = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(stype, key, numel)
        return self.storages[key]


def load_torch_state_dict(data):
    """Parse a torch.save()d state dict (bytes) into an OrderedDict of numpy arrays."""
    storages = {}
    if data[:4] == b"PK\x03\x04":
        # zip format (torch >= 1.6): <root>/data.pkl + <root>/data/<key>
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            pkl = [n for n in names if n.endswith("/data.pkl")]
            if len(pkl) != 1:
                raise ValueError("not a torch zip archive")
            root = pkl[0][: -len("data.pkl")]
            obj = _Unpickler(io.BytesIO(z.read(pkl[0])), storages).load()
            for key, st in storages.items():
                raw = z.read(root + "data/" + str(key))
                st.array = np.frombuffer(raw, dtype=st.stype.dtype, count=st.numel)
    else:
        f = io.BytesIO(data)
        magic = pickle.load(f)
        if magic != _LEGACY_MAGIC:
            raise ValueError("not a torch legacy file (bad magic)")
        protocol = pickle.load(f)
        if protocol != 1001:
            raise ValueError("unsupported torch legacy protocol %r" % protocol)
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", True):
            raise ValueError("big-endian torch files are not supported")
        obj = _Unpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            st = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            if numel != st.numel:
                raise ValueError("storage %s: size %d != %d" % (key, numel, st.numel))
            nbytes = numel * st.stype.dtype.itemsize
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                raise ValueError("truncated storage %s" % key)
            st.array = np.frombuffer(raw, dtype=st.stype.dtype, count=numel)
        if f.read(1):
            raise ValueError("trailing data after the last storage")
    out = collections.OrderedDict()
    for k, v in obj.items():
        out[k] = v.to_numpy() if isinstance(v, _LazyTensor) else v
    return out


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_weights(wheel_path, allow_other_wheel=False):
    with open(wheel_path, "rb") as fh:
        wheel_bytes = fh.read()
    h = sha256(wheel_bytes)
    if h != WHEEL_SHA256:
        msg = "%s: SHA-256 %s, expected %s (%s)" % (wheel_path, h, WHEEL_SHA256, WHEEL_NAME)
        if not allow_other_wheel:
            raise SystemExit("error: " + msg)
        print("warning: " + msg, file=sys.stderr)
    weights = {}
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as z:
        for net in ("pnet", "rnet", "onet"):
            data = z.read("facenet_pytorch/data/%s.pt" % net)
            h = sha256(data)
            if h != PT_SHA256[net]:
                msg = "facenet_pytorch/data/%s.pt: SHA-256 %s, expected %s" % (net, h, PT_SHA256[net])
                if not allow_other_wheel:
                    raise SystemExit("error: " + msg)
                print("warning: " + msg, file=sys.stderr)
            weights[net] = load_torch_state_dict(data)
    return weights


# --------------------------------------------------------------------------------------------
# ONNX graph construction
# --------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, state, net):
        self.state = state
        self.net = net
        self.nodes = []
        self.inits = []
        self.used = set()
        self.has_zero = False
        self.cur = "input"

    def weights(self, key):
        """The float32 array `key` of the state dict, marked as used."""
        self.used.add(key)
        return np.asarray(self.state[key], dtype=np.float32)

    def _w(self, key):
        return self.const(key, self.weights(key))

    def _node(self, op, inputs, name, out=None, **attrs):
        out = out or name
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, layer, x=None, out=None):
        w = self.state[layer + ".weight"]
        k = list(w.shape[2:])
        return self._node(
            "Conv",
            [x or self.cur, self._w(layer + ".weight"), self._w(layer + ".bias")],
            layer, out=out, kernel_shape=k, strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1,
        )

    def prelu(self, layer, x, spatial):
        """PReLU, max(x, 0) + slope * min(x, 0), the same value bit for bit up to the sign of a zero.

        After a convolution (``spatial``): Relu(x) + DepthwiseConv(Relu(DepthwiseConv(x, -1)), -slope),
        each depthwise convolution 1x1 with a zero bias. -x and slope * x are each rounded once,
        as in torch, and one of the two terms of the sum is always a zero. ONNX Runtime runs
        all of it, the second convolution with the sum fused in, in its blocked layout; the
        elementwise spelling below (needed after the dense layers) made it copy the tensor
        out of that layout and back at every PReLU: a third of P-Net's time.

        After a dense layer: Relu(x) + slope * Min(x, 0), four elementwise ops, about twice as
        fast as ONNX Runtime's PRelu kernel with a per-channel slope."""
        c = self.state[layer + ".weight"].shape[0]
        if spatial:
            slope = self.weights(layer + ".weight")
            minus_one = self.const(layer + "_minus_one", np.full((c, 1, 1, 1), -1.0, np.float32))
            minus_slope = self.const(layer + "_minus_slope", (-slope).reshape(c, 1, 1, 1))
            zero_bias = self.const(layer + "_zero_bias", np.zeros(c, np.float32))
            depthwise = dict(kernel_shape=[1, 1], strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=c)
            negated = self._node("Conv", [x, minus_one, zero_bias], layer + "_negated", **depthwise)
            negative = self._node("Relu", [negated], layer + "_negative")
            scaled = self._node("Conv", [negative, minus_slope, zero_bias], layer + "_scaled", **depthwise)
            pos = self._node("Relu", [x], layer + "_positive")
            return self._node("Add", [pos, scaled], layer)
        slope = self._w(layer + ".weight")
        if not self.has_zero:
            self.has_zero = True
            self.inits.append(numpy_helper.from_array(np.zeros((), dtype=np.float32), "zero"))
        neg = self._node("Min", [x, "zero"], layer + "_negative")
        scaled = self._node("Mul", [neg, slope], layer + "_scaled")
        pos = self._node("Relu", [x], layer + "_positive")
        return self._node("Add", [pos, scaled], layer)

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def maxpool(self, layer, x, k, s):
        # torch MaxPool2d(k, s, ceil_mode=True), no padding. With k >= s the extra
        # torch rule (last window must start inside the input) never triggers.
        return self._node("MaxPool", [x], layer, kernel_shape=[k, k], strides=[s, s],
                          pads=[0, 0, 0, 0], ceil_mode=1)

    def dense(self, layer, x, out=None):
        return self._node("Gemm", [x, self._w(layer + ".weight"), self._w(layer + ".bias")],
                          layer, out=out, alpha=1.0, beta=1.0, transB=1)

    def softmax(self, name, x, out):
        return self._node("Softmax", [x], name, out=out, axis=1)

    def permute_flatten(self, x):
        # x.permute(0, 3, 2, 1).contiguous().view(N, -1)
        t = self._node("Transpose", [x], "permute", perm=[0, 3, 2, 1])
        return self._node("Flatten", [t], "flatten", axis=1)

    def finish(self, in_shape, outputs, doc):
        unused = set(self.state) - self.used
        if unused:
            raise ValueError("%s: unused weights %s" % (self.net, sorted(unused)))
        graph = helper.make_graph(
            self.nodes, self.net,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
            producer_name=PRODUCER, producer_version=PRODUCER_VERSION, doc_string=doc,
        )
        helper.set_model_props(model, {
            "source": "facenet-pytorch 2.6.0 (%s) facenet_pytorch/data/%s.pt" % (WHEEL_NAME, self.net),
            "source_sha256": PT_SHA256[self.net],
            "license": "MIT (facenet-pytorch, Copyright (c) 2019 Timothy Esler); "
                       "weights: MTCNN, Zhang et al. 2016 (Kaipeng Zhang)",
        })
        onnx.checker.check_model(model, full_check=True)
        return model


def pad_channels(state, conv, prelu, following):
    """`conv`'s output channels padded with zero filters (and zero slopes for its `prelu`) up to a
    multiple of CHANNEL_BLOCK, and zero input weights for them in the `following` convolution. A
    padded channel is 0 everywhere: its PReLU and max pool give 0, and each adds an exact 0.0 to
    the following convolution's sums. Returns a new state dict; the original weights are unchanged."""
    f32 = lambda k: np.asarray(state[k], dtype=np.float32)
    c = f32(conv + ".weight").shape[0]
    extra = -c % CHANNEL_BLOCK
    if extra == 0:
        return state
    out = dict(state)
    w = f32(conv + ".weight")
    out[conv + ".weight"] = np.concatenate([w, np.zeros((extra,) + w.shape[1:], np.float32)])
    out[conv + ".bias"] = np.concatenate([f32(conv + ".bias"), np.zeros(extra, np.float32)])
    out[prelu + ".weight"] = np.concatenate([f32(prelu + ".weight"), np.zeros(extra, np.float32)])
    nxt = f32(following + ".weight")
    pad = np.zeros((nxt.shape[0], extra) + nxt.shape[2:], np.float32)
    out[following + ".weight"] = np.concatenate([nxt, pad], axis=1)
    return out


def build_pnet(state):
    b = _Builder(pad_channels(state, "conv1", "prelu1", "conv2"), "pnet")
    x = b.conv("conv1")
    x = b.prelu("prelu1", x, True)
    x = b.maxpool("pool1", x, 2, 2)
    x = b.conv("conv2", x)
    x = b.prelu("prelu2", x, True)
    x = b.conv("conv3", x)
    x = b.prelu("prelu3", x, True)
    # One 1x1 convolution for both heads: conv4_2's four box offsets, then conv4_1's face logit
    # minus its non-face logit. softmax(a)[1] = 1 / (1 + exp(a0 - a1)): the caller takes the
    # sigmoid of that margin where it needs a score, instead of a softmax over every cell.
    w1, b1 = (b.weights("conv4_1." + k) for k in ("weight", "bias"))
    w2, b2 = (b.weights("conv4_2." + k) for k in ("weight", "bias"))
    weight = b.const("head.weight", np.concatenate([w2, w1[1:2] - w1[0:1]]))
    bias = b.const("head.bias", np.concatenate([b2, b1[1:2] - b1[0:1]]))
    b._node("Conv", [x, weight, bias], "head", out="cells", kernel_shape=[1, 1], strides=[1, 1],
            pads=[0, 0, 0, 0], dilations=[1, 1], group=1)
    return b.finish(
        ["N", 3, "H", "W"], [("cells", ["N", 5, "h", "w"])],
        "MTCNN P-Net (facenet-pytorch 2.6.0 PNet). input: RGB NCHW, (pixel-127.5)*0.0078125. "
        "cells: box offsets (4 channels), then the face margin m; face probability 1/(1+exp(-m)).",
    )


def build_rnet(state):
    b = _Builder(pad_channels(state, "conv1", "prelu1", "conv2"), "rnet")
    x = b.conv("conv1")
    x = b.prelu("prelu1", x, True)
    x = b.maxpool("pool1", x, 3, 2)
    x = b.conv("conv2", x)
    x = b.prelu("prelu2", x, True)
    x = b.maxpool("pool2", x, 3, 2)
    x = b.conv("conv3", x)
    x = b.prelu("prelu3", x, True)
    x = b.permute_flatten(x)
    x = b.dense("dense4", x)
    x = b.prelu("prelu4", x, False)
    a = b.dense("dense5_1", x)
    b.softmax("softmax5_1", a, "prob")
    b.dense("dense5_2", x, out="reg")
    return b.finish(
        ["N", 3, 24, 24], [("reg", ["N", 4]), ("prob", ["N", 2])],
        "MTCNN R-Net (facenet-pytorch 2.6.0 RNet). input: RGB NCHW 24x24, (pixel-127.5)*0.0078125.",
    )


def build_onet(state):
    b = _Builder(state, "onet")
    x = b.conv("conv1")
    x = b.prelu("prelu1", x, True)
    x = b.maxpool("pool1", x, 3, 2)
    x = b.conv("conv2", x)
    x = b.prelu("prelu2", x, True)
    x = b.maxpool("pool2", x, 3, 2)
    x = b.conv("conv3", x)
    x = b.prelu("prelu3", x, True)
    x = b.maxpool("pool3", x, 2, 2)
    x = b.conv("conv4", x)
    x = b.prelu("prelu4", x, True)
    x = b.permute_flatten(x)
    x = b.dense("dense5", x)
    x = b.prelu("prelu5", x, False)
    a = b.dense("dense6_1", x)
    b.softmax("softmax6_1", a, "prob")
    b.dense("dense6_2", x, out="reg")
    b.dense("dense6_3", x, out="landmarks")
    return b.finish(
        ["N", 3, 48, 48], [("reg", ["N", 4]), ("landmarks", ["N", 10]), ("prob", ["N", 2])],
        "MTCNN O-Net (facenet-pytorch 2.6.0 ONet). input: RGB NCHW 48x48, (pixel-127.5)*0.0078125. "
        "landmarks: x1..x5, y1..y5 relative to the box.",
    )


BUILDERS = {"pnet": build_pnet, "rnet": build_rnet, "onet": build_onet}


# --------------------------------------------------------------------------------------------
# optional verification against facenet-pytorch's torch modules
# --------------------------------------------------------------------------------------------


def verify(out_dir, weights):
    import onnxruntime as ort
    import torch
    from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

    torch.set_grad_enabled(False)
    nets = {"pnet": PNet(), "rnet": RNet(), "onet": ONet()}
    # the weights we converted are the ones facenet-pytorch loads
    for name, net in nets.items():
        sd = net.state_dict()
        for k, v in weights[name].items():
            if not np.array_equal(sd[k].numpy(), v):
                raise SystemExit("verify: %s %s differs from facenet-pytorch's loaded weights" % (name, k))
    rng = np.random.default_rng(12345)
    shapes = {
        "pnet": [(1, 3, 12, 12), (1, 3, 13, 17), (2, 3, 37, 59), (1, 3, 100, 71), (1, 3, 368, 241)],
        "rnet": [(1, 3, 24, 24), (7, 3, 24, 24)],
        "onet": [(1, 3, 48, 48), (5, 3, 48, 48)],
    }
    worst = 0.0
    for name, net in nets.items():
        net.eval()
        sess = ort.InferenceSession(os.path.join(out_dir, name + ".onnx"), providers=["CPUExecutionProvider"])
        out_names = [o.name for o in sess.get_outputs()]
        for shape in shapes[name]:
            # inputs in the normalised pixel range [-1, 1]
            x = ((rng.integers(0, 256, size=shape).astype(np.float32) - 127.5) * 0.0078125).astype(np.float32)
            ref = [t.numpy() for t in net(torch.from_numpy(x))]
            got = sess.run(None, {"input": x})
            if name == "pnet":
                # cells -> facenet's (reg, prob): the face probability is the margin's sigmoid.
                (cells,) = got
                face = 1.0 / (1.0 + np.exp(-cells[:, 4:5].astype(np.float64)))
                got = [cells[:, :4], np.concatenate([1.0 - face, face], axis=1).astype(np.float32)]
                out_names = ["reg", "prob"]
            diffs = []
            for n, r, g in zip(out_names, ref, got):
                if r.shape != g.shape:
                    raise SystemExit("verify: %s %s shape %s != torch %s" % (name, n, g.shape, r.shape))
                d = float(np.max(np.abs(r - g)))
                diffs.append("%s %.2e" % (n, d))
                worst = max(worst, d)
            print("verify %s input %s: max abs diff %s" % (name, list(shape), ", ".join(diffs)))
    print("verify: overall max abs diff ONNX Runtime vs facenet-pytorch torch: %.3e" % worst)
    if worst >= 1e-5:
        raise SystemExit("verify: FAILED (>= 1e-5)")
    print("verify: OK (< 1e-5)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", required=True, help="path to " + WHEEL_NAME)
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "mtcnn"))
    ap.add_argument("--allow-other-wheel", action="store_true", help="warn instead of failing on a SHA-256 mismatch")
    ap.add_argument("--verify", action="store_true", help="compare with facenet-pytorch's torch modules (needs torch, facenet-pytorch, onnxruntime)")
    args = ap.parse_args(argv)

    weights = read_weights(args.wheel, args.allow_other_wheel)
    os.makedirs(args.out_dir, exist_ok=True)
    for name in ("pnet", "rnet", "onet"):
        model = BUILDERS[name](weights[name])
        data = model.SerializeToString(deterministic=True)
        path = os.path.join(args.out_dir, name + ".onnx")
        with open(path, "wb") as fh:
            fh.write(data)
        print("wrote %s (%d bytes, sha256 %s)" % (path, len(data), sha256(data)))
    if args.verify:
        verify(args.out_dir, weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
