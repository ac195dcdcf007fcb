"""training.backbones: the crop and resize in front of each network."""
import pytest

np = pytest.importorskip("numpy")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("PIL")

from onnx import TensorProto, helper  # noqa: E402

from training import backbones  # noqa: E402
from training.chip import INPUT  # noqa: E402


def crop_resize(rows, cols, size, antialias=None):
    """The graph of backbones._crop_resize on an INPUT x INPUT chip (scale 1, bias 0); with
    `antialias` set, its Resize node forced to that value."""
    nodes, inits, out = backbones._crop_resize("pre/t", "input", rows, cols, size, [1.0] * 3, [0.0] * 3)
    resize = [n for n in nodes if n.op_type == "Resize"]
    if antialias is not None:
        for a in resize[0].attribute:
            if a.name == "antialias":
                a.i = antialias
    graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, INPUT, INPUT])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", backbones.OPSET)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session, resize[0]


def antialias(node):
    return next(a.i for a in node.attribute if a.name == "antialias")


@pytest.mark.parametrize("rows, cols, size", [((0, INPUT), (0, INPUT), 224), ((23, 163), (23, 163), 64)])
def test_the_resize_equals_an_antialiased_one_and_widens_its_filter_only_to_shrink(rows, cols, size):
    x = np.random.default_rng(5).uniform(0, 255, (1, 3, INPUT, INPUT)).astype(np.float32)
    built, node = crop_resize(rows, cols, size)
    reference, _ = crop_resize(rows, cols, size, antialias=1)
    assert antialias(node) == int(size < rows[1] - rows[0])
    (a,), (b,) = built.run(None, {"input": x}), reference.run(None, {"input": x})
    assert a.shape == (1, 3, size, size)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-3)
    if antialias(node) == 0:
        # an enlargement: a plain bilinear one differs from the antialiased path by rounding only,
        # while a shrink without the wider filter would not (the test can tell the two apart)
        shrunk, _ = crop_resize((0, INPUT), (0, INPUT), 64, antialias=0)
        wide, _ = crop_resize((0, INPUT), (0, INPUT), 64, antialias=1)
        assert np.abs(shrunk.run(None, {"input": x})[0] - wide.run(None, {"input": x})[0]).max() > 1.0
