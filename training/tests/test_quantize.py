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
