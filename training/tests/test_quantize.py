"""training.quantize: the UTKFace CNN with its members run once each."""
import os

import pytest

np = pytest.importorskip("numpy")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("PIL")

from training import quantize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CNN = os.path.join(ROOT, "models", "backbones", "utkface-cnn.onnx")


def run(path, x):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return s.run(quantize.CNN_OUTPUTS, {"input": x})


def test_all_members_once_equal_the_ensemble_on_a_mirror_symmetric_chip(tmp_path):
    # The exported ensemble averages every member on the chip and on its mirror
    # image; on a chip equal to its mirror image both passes agree.
    x = np.random.default_rng(3).standard_normal((2, 3, 64, 64)).astype(np.float32)
    x = (x + x[..., ::-1]) / 2
    out = str(tmp_path / "cnn5.onnx")
    quantize.cnn_members(CNN, 5, out)
    for a, b in zip(run(out, x), run(CNN, x)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_fewer_members_differ(tmp_path):
    x = np.random.default_rng(4).standard_normal((1, 3, 64, 64)).astype(np.float32)
    x = (x + x[..., ::-1]) / 2
    out = str(tmp_path / "cnn1.onnx")
    quantize.cnn_members(CNN, 1, out)
    one, full = run(out, x), run(CNN, x)
    assert [o.shape for o in one] == [o.shape for o in full]
    assert not np.allclose(one[1], full[1], atol=1e-4)


def test_float_tail_picks_the_stem_and_the_numbered_blocks():
    from onnx import helper
    names = ["faceres/conv1_bn/batchnorm_1/mul_1", "faceres/conv1_relu/Relu", "faceres/conv_dw_1/depthwise",
             "faceres/conv_pw_1_relu/Relu", "faceres/conv_dw_10/depthwise", "faceres/conv_pw_13_bn/mul_1",
             "faceres/global_pooling/Mean", "dlib/conv_3", "utkface_cnn/conv1_x"]
    model = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"], name=n) for n in names],
                                                "g", [], []))
    assert quantize.float_tail(model, (0, 1)) == names[:4] + ["faceres/global_pooling/Mean"]
    assert quantize.float_tail(model, (10, 13)) == names[4:7]
    assert quantize.float_tail(model, ()) == ["faceres/global_pooling/Mean"]
    assert set(quantize.FLOAT_BLOCKS) == {"accurate", "fast"}
