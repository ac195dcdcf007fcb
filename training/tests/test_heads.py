"""Heads on frozen features: the exported arithmetic equals the fitted models (needs numpy, sklearn)."""
import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("sklearn")

from training import backbones, chip, context, degrade, heads  # noqa: E402


def test_folded_standardisation_reproduces_the_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(400, 6))
    g = (x[:, 0] + rng.normal(0, 1, 400) > 3).astype(int)
    e = rng.integers(0, 5, 400)
    grp = rng.integers(0, 12, 400)
    age = rng.integers(1, 90, 400)
    h = heads.fit(["x"], x, g, e, grp, age, c=1.0, ridge_alpha=1.0)
    from sklearn.linear_model import LogisticRegression
    z = (x - h.mu) / h.sd
    w = np.ones(400)
    for a in range(12):
        for s in range(2):
            m = (grp == a) & (g == s)
            w[m] = 400 / 24 / max(m.sum(), 1)
    ref = LogisticRegression(C=1.0, max_iter=400).fit(z, g, sample_weight=w).predict_proba(z)
    ours = heads.softmax(h("gender", x))
    assert np.allclose(ours, ref, atol=1e-5)


def test_temperature_and_ece():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    said = np.where(rng.random(2000) < 0.3, 1 - y, y)  # right 70 % of the time, sure of it every time
    logits = np.stack([np.zeros(2000), np.where(said == 1, 1.0, -1.0) * 4], 1)
    t = heads.fit_temperature(logits, y)
    assert t > 1.0
    assert heads.ece(heads.softmax(logits, t), y) <= heads.ece(heads.softmax(logits), y)


def test_cnn_crop_inside_the_chip():
    old = [[51.07, 42.005], [138.71, 41.53], [95.115, 94.655], [55.785, 133.745], [134.165, 134.165]]
    dlib = [[41.075, 34.249], [101.926, 33.852], [71.576, 71.231], [44.512, 97.932], [98.72, 97.813]]
    new = chip.widen({"landmarks": dlib, "method": "test"})["landmarks"]
    r0, r1, c0, c1 = backbones.cnn_crop(old, 200, new)
    assert 0 <= r0 < r1 <= chip.INPUT and 0 <= c0 < c1 <= chip.INPUT
    assert abs((r1 - r0) - (c1 - c0)) <= 1 and 120 < r1 - r0 < 150


def test_degrade_is_deterministic_and_keeps_the_shape():
    x = np.random.default_rng(2).integers(0, 256, (chip.INPUT, chip.INPUT, 3), dtype=np.uint8)
    a = degrade.degrade(x, np.random.default_rng(7))
    b = degrade.degrade(x, np.random.default_rng(7))
    assert a.shape == x.shape and a.dtype == np.uint8 and np.array_equal(a, b)


def test_surroundings_keep_the_image_and_fill_the_rest():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    other = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    side = 200 + 2 * context.MARGIN
    for kind in context.SURROUNDS:
        a = context.surround(img, kind, context._rng("x.jpg", 5), other)
        b = context.surround(img, kind, context._rng("x.jpg", 5), other)
        assert a.shape == (side, side, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
        # the image sits whole inside, at most SHIFT px off centre
        found = [(y, x) for y in range(context.MARGIN - context.SHIFT, context.MARGIN + context.SHIFT + 1)
                 for x in range(context.MARGIN - context.SHIFT, context.MARGIN + context.SHIFT + 1)
                 if np.array_equal(a[y:y + 200, x:x + 200], img)]
        assert len(found) == 1, kind
    assert context._rng("x.jpg", 5).integers(1 << 30) != context._rng("y.jpg", 5).integers(1 << 30)
    with pytest.raises(ValueError):
        context.surround(img, "sky", context._rng("x.jpg", 5))


def test_age_map_undoes_shrinkage_and_the_graph_computes_it():
    rng = np.random.default_rng(2)
    true = np.expm1(rng.normal(np.log1p(30), 0.8, 4000))
    t = np.log1p(true)
    shrunk = np.expm1(t.mean() + 0.6 * (t - t.mean()) + rng.normal(0, 0.05, len(t)))
    m = heads.fit_age_map(shrunk, true)
    mapped = heads.apply_age_map(shrunk, m)
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    # the regression-to-the-mean is gone: the mapped answers spread like the labels, the raw ones do not
    assert np.allclose(np.quantile(mapped, q), np.quantile(true, q), rtol=0.05)
    assert not np.allclose(np.quantile(shrunk, q), np.quantile(true, q), rtol=0.2)
    grid = np.linspace(0, 150, 3001)
    assert (np.diff(heads.apply_age_map(grid, m)) >= 0).all()
    # beyond the end knots the map keeps slope 1 in log(1 + age)
    far = np.array([500.0, 1000.0])
    assert np.isclose(np.diff(np.log1p(heads.apply_age_map(far, m)))[0], np.diff(np.log1p(far))[0])

    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper
    inits, nodes = heads.age_map_graph(m, "age", "mapped")
    graph = helper.make_graph(nodes, "age-map", [helper.make_tensor_value_info("age", TensorProto.FLOAT, ["N"])],
                              [helper.make_tensor_value_info("mapped", TensorProto.FLOAT, ["N"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", backbones.OPSET)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.concatenate([grid, [-3.0, 500.0]]).astype(np.float32)
    out = session.run(None, {"age": x})[0]
    assert np.allclose(out, heads.apply_age_map(x.astype(np.float64), m), rtol=1e-4, atol=1e-3)


def test_each_classifier_reads_only_features_of_its_networks():
    assert set(heads.CLASSIFIERS) == set(backbones.NETWORKS)
    for name, spec in heads.CLASSIFIERS.items():
        networks = backbones.NETWORKS[name]["networks"]
        assert spec["features"], name
        for f in spec["features"]:
            assert backbones.FEATURES[f][0] in networks, (name, f)


def test_crop_of_the_target_size_is_not_resized():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper
    side = chip.INPUT

    def graph(size):
        nodes, inits, out = backbones._crop_resize("p", "input", (0, side), (0, side), size, [2.0] * 3, [1.0] * 3)
        g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, side, side])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", backbones.OPSET)])
        m.ir_version = 8
        return m

    same, other = graph(side), graph(side + 10)
    assert "Resize" not in [n.op_type for n in same.graph.node]
    assert "Resize" in [n.op_type for n in other.graph.node]
    x = np.random.default_rng(3).uniform(0, 255, (1, 3, side, side)).astype(np.float32)
    y, = ort.InferenceSession(same.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    assert np.allclose(y, 2 * x + 1)
    y, = ort.InferenceSession(other.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    assert y.shape == (1, 3, side + 10, side + 10)
