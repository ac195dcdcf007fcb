"""Checks of the committed classifier artifacts (stdlib; the onnxruntime part skips without it)."""
import hashlib
import json
import os

import pytest

from training import chip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MDIR = os.path.join(ROOT, "models", "classifier")
ONNX = os.path.join(MDIR, "faceless-attributes.onnx")
MAN = os.path.join(MDIR, "faceless-attributes.json")
CNN = os.path.join(ROOT, "models", "backbones", "utkface-cnn")

pytestmark = pytest.mark.skipif(not os.path.exists(MAN), reason="no committed classifier manifest yet")


def manifest():
    with open(MAN) as f:
        return json.load(f)


def test_manifest_contract():
    m = manifest()
    assert m["name"] == "faceless-attributes" and m["version"] == "2.5.2"
    assert m["onnx"] == "faceless-attributes.onnx"
    inp = m["input"]
    assert inp["name"] == "input" and inp["layout"] == "NCHW" and inp["channels"] == "RGB"
    s = inp["size"]
    assert len(s) == 2 and s[0] == s[1] and s[0] > 0
    assert len(inp["mean"]) == 3 and len(inp["std"]) == 3 and all(v > 0 for v in inp["std"])
    assert m["chip_size"] == [chip.INPUT, chip.INPUT] == s == m["alignment"]["chip_size"]
    assert m["outputs"] == ["age_group_logits", "gender_logits", "ethnicity_logits", "age_years"]
    e = m["age_groups"]["edges"]
    assert len(e) == 13 and all(isinstance(v, int) for v in e) and all(a < b for a, b in zip(e, e[1:]))
    labels = m["age_groups"]["labels"]
    assert labels == [str(a) if b - 1 == a else f"{a}-{b - 1}" for a, b in zip(e, e[1:])]
    assert m["gender_labels"] == ["male", "female"]
    assert m["ethnicity_labels"] == ["white", "black", "asian", "indian", "others"]
    assert set(m["temperature"]) == {"age_group", "gender", "ethnicity"}
    assert all(t > 0 for t in m["temperature"].values())
    assert set(m["training"]["cnn_weights"]) == {"gender", "ethnicity", "age_group", "age"}
    assert "CC0" in m["training"]["backbones"] and "Apache-2.0" in m["training"]["backbones"]
    assert "metrics" in m
    q = m["training"]["quantisation"]
    assert q["members"] >= 1 and q["mirror"] is False and q["calibration_chips"] > 0


def test_shipped_graph_is_quantised():
    onnx = pytest.importorskip("onnx")
    ops = {n.op_type for n in onnx.load(ONNX).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_utkface_cnn_backbone_is_the_committed_one():
    # The fused graph embeds this file; its manifest records its own hash.
    with open(CNN + ".json") as f:
        m = json.load(f)
    assert m["version"] == "1.0.0" and m["training"]["torch"] == "2.2.2"
    assert hashlib.sha256(open(CNN + ".onnx", "rb").read()).hexdigest() == m["sha256"]
    assert manifest()["training"]["utkface_cnn"]["sha256"] == m["sha256"]


def test_sha256_matches():
    m = manifest()
    h = hashlib.sha256(open(ONNX, "rb").read()).hexdigest()
    assert m["sha256"] == h
    sums = open(os.path.join(MDIR, "SHA256SUMS")).read().split()
    assert sums == [h, "faceless-attributes.onnx"]


def test_onnx_runs():
    ort = pytest.importorskip("onnxruntime")
    np = pytest.importorskip("numpy")
    m = manifest()
    s = m["input"]["size"][0]
    sess = ort.InferenceSession(ONNX, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input"]
    assert [o.name for o in sess.get_outputs()] == m["outputs"]
    for n in (1, 3):
        out = sess.run(None, {"input": np.zeros((n, 3, s, s), np.float32)})
        assert [list(o.shape) for o in out] == [[n, 12], [n, 2], [n, 5], [n]]
