"""The Python binding against the same expectations as the C, C++, C# and Go
binding tests (tests/data), the facenet-pytorch golden boxes (tests/golden,
as tests/detect_parity.rs), and the CLI's --json output."""

import ctypes
import json
import math
import os
import struct
import subprocess
import threading

import numpy as np
import pytest
from conftest import DATA, GOLDEN, REPO, cli, cli_json, shared

import faceless


def data(name):
    return str(DATA / name)


def bmp_bgr():
    """tests/data/astronaut.bmp's pixels as an H x W x 3 BGR array (the
    bottom-up rows turned over), read without an image library."""
    raw = open(data("astronaut.bmp"), "rb").read()
    off, w, h = struct.unpack_from("<I", raw, 10)[0], *struct.unpack_from("<ii", raw, 18)
    rows = np.frombuffer(raw, np.uint8, w * h * 3, off).reshape(h, w, 3)
    return np.ascontiguousarray(rows[::-1])


def check_prediction(p, n):
    assert len(p.probs) == n and len(p.labels) == n
    assert abs(sum(p.probs) - 1) < 1e-3
    assert p.label == p.labels[p.index] and p.prob == p.probs[p.index]
    assert p.prob == max(p.probs)


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
    return inter / (area(a) + area(b) - inter)


def test_version():
    assert faceless.__version__ and faceless.abi_version() == faceless.ABI_VERSION
    assert faceless.status_string(4).startswith("FACELESS_ERR_DECODE")


def test_astronaut_one_face(pipeline):
    a = pipeline.analyze(data("astronaut.png"))
    assert (a.width, a.height, len(a.faces)) == (512, 512, 1)
    f = a.faces[0]
    assert f.id == 0 and f.score > 0.9 and f.box[0] < f.box[2] and f.box[1] < f.box[3]
    assert len(f.landmarks) == 5
    check_prediction(f.age_group, 12)
    check_prediction(f.gender, 2)
    check_prediction(f.ethnicity, 5)
    assert 0 < f.age < 120


def test_cat_no_face(pipeline):
    assert pipeline.analyze(data("chelsea.png")).faces == ()


def golden_cases():
    cases = [("astronaut.json", DATA / "astronaut.png"), ("chelsea.json", DATA / "chelsea.png"),
             ("astronaut_256.json", DATA / "astronaut.bmp")]
    for stem in ["facenet_multiface", "frec_two_people", "linzaer_9", "mtcnn_ivan"]:
        cases.append((stem + ".json", f"shared:photos/{stem}.jpg"))
    return cases


@pytest.mark.parametrize("golden,image", golden_cases())
def test_golden_detection(pipeline, golden, image):
    """Every facenet-pytorch face matched at IoU >= 0.9, landmarks within 2 px
    (tests/detect_parity.rs's criterion; linzaer_26's tie is left to it)."""
    if isinstance(image, str) and image.startswith("shared:"):
        image = shared(image[len("shared:"):])
    want = json.load(open(GOLDEN / golden))
    got = pipeline.analyze(image)
    assert (got.width, got.height) == (want["width"], want["height"])
    assert len(got.faces) == len(want["faces"])
    for ref in want["faces"]:
        best = max(got.faces, key=lambda f: iou(f.box, ref["box"]))
        assert iou(best.box, ref["box"]) >= 0.9
        for (x, y), (rx, ry) in zip(best.landmarks, ref["landmarks"]):
            assert math.hypot(x - rx, y - ry) <= 2.0


def test_to_dict_is_the_cli_json(pipeline):
    """to_dict() / to_json() give exactly what `faceless analyze --json`
    prints: the same members in the same order, the same rounding."""
    names = ["astronaut.png", "chelsea.png", "astronaut.jpg", "astronaut_exif_rot.jpg"]
    paths = [data(n) for n in names]
    by_cli = cli_json(*paths)
    for p in paths:
        a = pipeline.analyze(p)
        assert a.to_dict() == by_cli[p]
        assert json.dumps(a.to_dict()) == json.dumps(by_cli[p])  # member order too
    line = subprocess.run([cli(), "analyze", "--json", paths[0]], capture_output=True, text=True)
    assert pipeline.analyze(paths[0]).to_json() == line.stdout.strip()  # byte for byte


def test_rounding_is_rusts():
    # halves away from zero, on the f64 value (Python's round() gives 0.0, 2.0)
    assert faceless._round(0.5, 0) == 1.0 and faceless._round(2.5, 0) == 3.0
    assert faceless._round(-0.5, 0) == -1.0 and faceless._round(0.125, 2) == 0.13


def test_encoded_bytes_and_buffers(pipeline):
    jpg = open(data("astronaut.jpg"), "rb").read()
    ref = pipeline.analyze(data("astronaut.jpg"))
    for x in (jpg, bytearray(jpg), memoryview(jpg), np.frombuffer(jpg, np.uint8).tobytes()):
        a = pipeline.analyze(x)
        assert a.image is None and a.faces == ref.faces


def test_pixels_rgb_bgr_gray_and_strides(pipeline):
    bgr = bmp_bgr()
    file = pipeline.analyze(data("astronaut.bmp"))
    assert len(file.faces) == 1
    px = pipeline.analyze(bgr, format="bgr")
    assert px.faces[0].box == file.faces[0].box  # exact, as the Go test
    rgb_view = bgr[:, :, ::-1]  # negative channel stride: copied
    assert pipeline.analyze(rgb_view).faces[0].box == file.faces[0].box
    assert pipeline.analyze(np.ascontiguousarray(rgb_view), format="rgb").faces == px.faces
    # a row-padded buffer (stride > width x 3), taken without a copy
    padded = np.zeros((bgr.shape[0], bgr.shape[1] + 7, 3), np.uint8)
    padded[:, : bgr.shape[1]] = bgr
    view = padded[:, : bgr.shape[1]]
    assert not view.flags.c_contiguous
    p = faceless._Pixels(view, "bgr")
    assert p.keep is view and p.stride == padded.strides[0]
    assert pipeline.analyze(view, format="bgr").faces == px.faces
    # every other column: not a row of contiguous pixels, copied
    assert faceless._Pixels(padded[:, ::2], "bgr").keep is not padded
    # a bottom-right crop: stride x height would run past the buffer, copied
    crop = padded[10:, 5:]
    assert faceless._Pixels(crop, "bgr").keep is not crop
    gray2d = np.ascontiguousarray(bgr[:, :, 1])
    assert np.shares_memory(faceless._Pixels(gray2d, None).keep, gray2d)  # H x W: no copy
    gray = pipeline.analyze(gray2d)
    assert gray.width == bgr.shape[1] and len(gray.faces) == 1
    one_row = bgr[100:101]  # a single row: its stride is its width
    assert faceless._Pixels(one_row, "bgr").stride == bgr.shape[1] * 3
    assert pipeline.analyze(one_row, format="bgr").height == 1
    # RGBA and BGRA drop alpha
    rgba = np.dstack([bgr[:, :, ::-1], np.full(bgr.shape[:2], 255, np.uint8)])
    assert pipeline.analyze(rgba).faces == px.faces
    assert pipeline.analyze(np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]), format="bgra").faces == px.faces


@pytest.mark.parametrize(
    "call,status",
    [
        (lambda p: p.analyze(data("truncated.jpg")), 4),
        (lambda p: p.analyze(open(data("not_an_image.jpg"), "rb").read()), 4),
        (lambda p: p.analyze(data("missing.png")), 3),
        (lambda p: p.analyze(b""), 2),  # length 0
        (lambda p: p.analyze(np.zeros((10, 0, 3), np.uint8)), 2),
        (lambda p: faceless.Pipeline(max_pixels=100).analyze(np.zeros((20, 20, 3), np.uint8)), 5),
        (lambda p: faceless.Pipeline(providers="quantum"), 2),
        (lambda p: faceless.Pipeline(providers=["cuda"]), 7),
        (lambda p: faceless.Pipeline(model_dir="/nonexistent"), 8),
        (lambda p: faceless.Pipeline(threads=-1), 2),
    ],
    ids=["truncated", "text", "missing", "empty bytes", "zero width", "too large",
         "unknown provider", "cuda absent", "model dir", "negative threads"],
)
def test_errors_carry_status_and_message(pipeline, call, status):
    with pytest.raises(faceless.FacelessError) as e:
        call(pipeline)
    assert e.value.status == status, e.value
    assert e.value.message and e.value.code.startswith("FACELESS_")


def test_error_names_its_file(pipeline):
    with pytest.raises(faceless.FacelessError, match="missing-xyz.png"):
        pipeline.analyze(data("missing-xyz.png"))


def test_bad_python_inputs(pipeline):
    with pytest.raises(TypeError):
        pipeline.analyze(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError):
        pipeline.analyze(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ValueError):
        pipeline.analyze(np.zeros((10, 10, 3), np.uint8), format="rgba")


def test_batch(pipeline):
    jpg = open(data("astronaut.jpg"), "rb").read()
    trunc = open(data("truncated.jpg"), "rb").read()
    items = pipeline.analyze_batch(
        [data("astronaut.png"), data("chelsea.png"), jpg, bmp_bgr(), trunc, data("missing.png")],
        format="bgr",
    )
    assert [len(i.analysis.faces) for i in items[:4]] == [1, 0, 1, 1]
    assert items[0].analysis.image == data("astronaut.png") and items[2].analysis.image is None
    assert not items[4].ok and items[4].analysis is None and items[4].error.status == 4
    assert "decode" in items[4].error.message  # its own message
    assert items[5].error.status == 3 and "missing.png" in items[5].error.message
    with pytest.raises(faceless.FacelessError):
        items[4].result()
    assert pipeline.analyze_batch([]) == []
    # every image failing is still a call that ran
    assert pipeline.analyze_batch([trunc])[0].error.status == 4
    # the same faces as one at a time
    assert items[0].analysis == pipeline.analyze(data("astronaut.png"))


def test_classify_aligned(pipeline):
    chip = (np.arange(64 * 64) % 256).astype(np.uint8).reshape(64, 64)
    a = pipeline.classify_aligned(chip)
    assert len(a.faces) == 1
    f = a.faces[0]
    assert f.box == (0, 0, 64, 64) and f.score == 1 and f.landmarks == ((0.0, 0.0),) * 5
    check_prediction(f.gender, 2)
    jpg = open(data("astronaut.jpg"), "rb").read()
    assert len(pipeline.classify_aligned(jpg).faces) == 1
    by_path = pipeline.classify_aligned(data("astronaut.jpg"))
    assert by_path.faces == pipeline.classify_aligned(jpg).faces and by_path.image == data("astronaut.jpg")
    with pytest.raises(faceless.FacelessError) as e:
        pipeline.classify_aligned(data("missing.png"))
    assert e.value.status == 3


def test_fifo_is_refused_unopened(pipeline, tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    for call in (pipeline.analyze, pipeline.classify_aligned):
        with pytest.raises(faceless.FacelessError) as e:
            call(fifo)  # would block if opened
        assert e.value.status == 3


def test_threads_share_a_pipeline(pipeline):
    ref = pipeline.analyze(data("astronaut.png"))
    results, errors = [], []

    def work():
        try:
            results.append(pipeline.analyze(data("astronaut.png")))
            pipeline.analyze(data("missing-" + threading.current_thread().name + ".png"))
        except faceless.FacelessError as e:
            errors.append((threading.current_thread().name, e.message))

    threads = [threading.Thread(target=work, name=f"t{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == ref for r in results) and len(results) == 4
    assert all(name in msg for name, msg in errors) and len(errors) == 4  # per-thread messages


def test_native_calls_release_the_gil():
    """Python code on another thread finishes while a native call runs. With
    the GIL held through the call, the main thread's work could only finish
    after it (when `done` is set)."""
    entered, done = threading.Event(), threading.Event()
    images = [data("astronaut.png")] * 12
    with faceless.Pipeline(max_concurrency=1, threads=1) as p:

        def native():
            entered.set()
            p.analyze_batch(images)  # one call of several hundred ms
            done.set()

        t = threading.Thread(target=native)
        t.start()
        entered.wait()
        sum(i * i for i in range(300_000))  # tens of ms of pure Python
        finished_first = not done.is_set()
        t.join()
    assert finished_first


def test_context_manager_and_close():
    with faceless.Pipeline(max_concurrency=1) as p:
        assert len(p.analyze(data("astronaut.png")).faces) == 1
    with pytest.raises(ValueError, match="closed"):
        p.analyze(data("astronaut.png"))
    p.close()  # twice is fine


def test_onnxruntime_from_its_wheel():
    """With the onnxruntime 1.31.1 wheel installed and no ORT_DYLIB_PATH, the
    pipeline loads the wheel's own library."""
    from importlib import metadata

    try:
        dist = metadata.distribution("onnxruntime")
    except metadata.PackageNotFoundError:
        pytest.skip("onnxruntime is not installed in this environment")
    if os.environ.get("ORT_DYLIB_PATH"):
        pytest.skip("ORT_DYLIB_PATH is set and wins over the wheel")
    assert dist.version == "1.31.1"
    path = faceless._native.ort_library_path()
    assert path and path.endswith("onnxruntime/capi/libonnxruntime.so.1.31.1")
    with faceless.Pipeline(max_concurrency=1) as p:
        assert p.ort_library_path == path
    maps = open("/proc/self/maps").read()
    assert path in maps  # the library loaded is that one


@pytest.mark.skipif(not os.environ.get("FACELESS_REQUIRE_SPARK"), reason="only in tools/test_python.sh")
def test_the_installed_wheel_is_under_test():
    """tools/test_python.sh tests the wheel as installed, with the library it carries."""
    assert "site-packages" in faceless.__file__
    assert faceless._native.library_path() == os.path.join(os.path.dirname(faceless.__file__), "libfaceless.so.0")


def test_options_reach_the_library(pipeline):
    default = pipeline.analyze(data("astronaut.png")).faces
    # a coarser pyramid finds the ~87 x 110 px face elsewhere
    with faceless.Pipeline(min_face_size=150, max_concurrency=1) as p:
        coarse = p.analyze(data("astronaut.png")).faces
        assert len(coarse) == 1 and coarse[0].box != default[0].box
    with faceless.Pipeline(thresholds=(0.6, 0.7, 0.9999999), max_concurrency=1) as p:
        assert p.analyze(data("astronaut.png")).faces == ()
    with faceless.Pipeline(max_input_bytes=1000, max_concurrency=1) as p:
        with pytest.raises(faceless.FacelessError) as e:
            p.analyze(data("astronaut.png"))
        assert e.value.status == 5
    with pytest.raises(ValueError):
        faceless.Pipeline(thresholds=(0.6, 0.7))


def test_fast_and_accurate_classifiers(pipeline, tmp_path):
    assert pipeline.classifier == "accurate"
    for name in ("accurate", "fast"):
        with faceless.Pipeline(classifier=name, max_concurrency=1) as p:
            assert p.classifier == name
            faces = p.analyze(data("astronaut.png")).faces
            assert len(faces) == 1
            check_prediction(faces[0].gender, 2)
            check_prediction(faces[0].age_group, 12)
            check_prediction(faces[0].ethnicity, 5)
    with pytest.raises(ValueError, match="accurate, fast"):
        faceless.Pipeline(classifier="medium")
    # The option reaches the library: `fast` from a models directory without
    # classifier-fast/ is the library's model error, `accurate` is not.
    for m in ("mtcnn", "classifier"):
        os.symlink(REPO / "models" / m, tmp_path / m)
    with faceless.Pipeline(model_dir=tmp_path, max_concurrency=1) as p:
        assert len(p.analyze(data("astronaut.png")).faces) == 1
    with pytest.raises(faceless.FacelessError, match="classifier-fast/") as e:
        faceless.Pipeline(model_dir=tmp_path, classifier="fast")
    assert e.value.status == 8


def test_options_struct_matches_the_header():
    """The ctypes layout of FacelessOptions is the C one: same size (the
    classifier field fills the version-1 tail padding) and field offset."""
    o = faceless._native.Options()
    faceless._native.lib.faceless_options_init(ctypes.byref(o))
    assert o.struct_size == ctypes.sizeof(faceless._native.Options) == 64
    assert faceless._native.Options.classifier.offset == 60 and o.classifier == 0
