"""Faceless for Python: find every face in a photo and estimate its age group,
gender and ethnicity, each with the probability of every class.

A thin ctypes layer over libfaceless's C ABI (include/faceless.h), which the
wheel carries. Gender and ethnicity are labels as annotated in the training
data (UTKFace), not facts about people: read MODEL_CARD.md.

    import faceless
    with faceless.Pipeline(threads=1) as p:
        for face in p.analyze("photo.jpg").faces:
            print(face.box, face.age_group.label, face.gender.label, face.gender.prob)
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from . import _native
from ._native import lib

__all__ = [
    "ABI_VERSION",
    "Analysis",
    "BatchItem",
    "Face",
    "FacelessError",
    "Pipeline",
    "Prediction",
    "__version__",
    "abi_version",
    "status_string",
]

__version__ = lib.faceless_version().decode()
ABI_VERSION = _native.ABI_VERSION


def abi_version() -> int:
    """The C ABI version libfaceless implements."""
    return int(lib.faceless_abi_version())


def status_string(status: int) -> str:
    """The name and meaning of a status code, e.g. 'FACELESS_ERR_DECODE: ...'."""
    return lib.faceless_status_string(status).decode()


# ---------------------------------------------------------------- errors


class FacelessError(Exception):
    """A failed call: `status` is the C status code (FACELESS_ERR_*), `code`
    its name, `message` the library's message for this failure."""

    def __init__(self, status: int, message: str):
        self.status = int(status)
        self.code = status_string(status).split(":", 1)[0]
        self.message = message
        super().__init__(f"{self.code}: {message}")


def _last_error(status: int) -> FacelessError:
    # Same OS thread as the failed call, so the per-thread message is ours.
    return FacelessError(status, lib.faceless_last_error().decode("utf-8", "replace"))


def _check(status: int) -> None:
    if status != _native.OK:
        raise _last_error(status)


# ---------------------------------------------------------------- results


def _round(v: float, digits: int) -> float:
    """The CLI's rounding: (v as f64 × 10^digits).round() / 10^digits, where
    Rust's round() takes halves away from zero (Python's round() does not)."""
    k = 10.0**digits
    y = v * k
    a = abs(y)
    r = math.floor(a)
    if a - r >= 0.5:
        r += 1.0
    return math.copysign(r, y) / k


@dataclass(frozen=True)
class Prediction:
    """One classifier answer: the most probable class and every class's
    probability (`labels[i]` has probability `probs[i]`)."""

    index: int
    label: str
    prob: float
    labels: tuple[str, ...]
    probs: tuple[float, ...]

    def by_label(self) -> dict[str, float]:
        return dict(zip(self.labels, self.probs))

    @staticmethod
    def _from_c(p: _native.Prediction) -> "Prediction":
        n = p.count
        return Prediction(
            index=int(p.index),
            label=p.label.decode(),
            prob=float(p.prob),
            labels=tuple(p.labels[i].decode() for i in range(n)),
            probs=tuple(float(p.probs[i]) for i in range(n)),
        )


@dataclass(frozen=True)
class Face:
    """One face: `box` is (x1, y1, x2, y2) in image pixels, `landmarks` the
    left eye, right eye, nose, left and right mouth corner as (x, y) (left and
    right as seen in the picture), `age` the expected age in years."""

    id: int
    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]
    age: float
    age_group: Prediction
    gender: Prediction
    ethnicity: Prediction

    def to_dict(self) -> dict[str, Any]:
        """This face as the CLI's `analyze --json` writes it."""
        r = _round
        return {
            "id": self.id,
            "box": [r(v, 2) for v in self.box],
            "score": r(self.score, 6),
            "landmarks": [[r(x, 2), r(y, 2)] for x, y in self.landmarks],
            "age": r(self.age, 1),
            "age_group": {
                "index": self.age_group.index,
                "label": self.age_group.label,
                "prob": r(self.age_group.prob, 4),
                "probs": [r(p, 4) for p in self.age_group.probs],
            },
            "gender": {
                "label": self.gender.label,
                "prob": r(self.gender.prob, 4),
                "probs": {k: r(p, 4) for k, p in zip(self.gender.labels, self.gender.probs)},
            },
            "ethnicity": {
                "label": self.ethnicity.label,
                "prob": r(self.ethnicity.prob, 4),
                "probs": {
                    k: r(p, 4) for k, p in zip(self.ethnicity.labels, self.ethnicity.probs)
                },
            },
        }

    @staticmethod
    def _from_c(f: _native.Face) -> "Face":
        return Face(
            id=int(f.id),
            box=tuple(float(v) for v in f.bbox),
            score=float(f.score),
            landmarks=tuple((float(p[0]), float(p[1])) for p in f.landmarks),
            age=float(f.age_years),
            age_group=Prediction._from_c(f.age_group),
            gender=Prediction._from_c(f.gender),
            ethnicity=Prediction._from_c(f.ethnicity),
        )


@dataclass(frozen=True)
class Analysis:
    """The analysis of one image: its size and its faces, best score first.
    `image` is the path analysed (None for bytes and arrays)."""

    width: int
    height: int
    faces: tuple[Face, ...]
    image: str | None = None
    image_lossy: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Exactly the object the CLI's `faceless analyze --json` prints for
        this image (same members, order and rounding); `"image"` is None when
        the input was not a path."""
        d: dict[str, Any] = {"image": self.image}
        if self.image_lossy:
            d["image_lossy"] = True
        d["width"] = self.width
        d["height"] = self.height
        d["faces"] = [f.to_dict() for f in self.faces]
        return d

    def to_json(self) -> str:
        """to_dict() as the CLI's one line of JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def _take_result(ptr, image: str | None = None, lossy: bool = False) -> Analysis:
    """Copies a C result into Python objects and frees it."""
    try:
        r = ptr.contents
        faces = tuple(Face._from_c(r.faces[i]) for i in range(r.face_count))
        return Analysis(int(r.width), int(r.height), faces, image, lossy)
    finally:
        lib.faceless_result_free(ptr)


@dataclass(frozen=True)
class BatchItem:
    """One image of `Pipeline.analyze_batch`: its analysis, or the error that
    image met (each image has its own status and message)."""

    analysis: Analysis | None
    error: FacelessError | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def result(self) -> Analysis:
        """The analysis, or raises this image's error."""
        if self.error is not None:
            raise self.error
        assert self.analysis is not None
        return self.analysis


# ---------------------------------------------------------------- inputs


def _shown_path(path: str | os.PathLike) -> tuple[str, bool]:
    """The path as the CLI's "image" member shows it: UTF-8, U+FFFD in place
    of bytes that are not, and whether any had to be replaced."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


class _Pixels:
    """A NumPy array as the C ABI's raw-pixel arguments, without a copy when
    each row's pixels are contiguous and the rows are evenly spaced forward
    (crops and row-padded buffers included); otherwise a contiguous copy."""

    def __init__(self, array: Any, format: str | None):
        import numpy as np

        a = array
        if not isinstance(a, np.ndarray):
            raise TypeError(f"expected a NumPy array, got {type(a).__name__}")
        if a.dtype != np.uint8:
            raise TypeError(f"pixel arrays must be uint8, not {a.dtype}")
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
            raise ValueError(
                f"pixel arrays are H x W (gray), H x W x 3 or H x W x 4, not shape {array.shape}"
            )
        channels = a.shape[2]
        fmt = (format or {1: "gray", 3: "rgb", 4: "rgba"}[channels]).lower()
        if fmt not in _native.PIXEL_FORMATS:
            raise ValueError(f"format must be one of {sorted(_native.PIXEL_FORMATS)}, not {format!r}")
        if {"gray": 1, "rgb": 3, "bgr": 3, "rgba": 4, "bgra": 4}[fmt] != channels:
            raise ValueError(f"format {fmt!r} does not fit {channels} channel(s)")
        h, w = a.shape[0], a.shape[1]
        self.width, self.height = w, h
        self.format = _native.PIXEL_FORMATS[fmt]
        if h == 0 or w == 0:
            # a valid pointer and length 0: the library names the zero size
            self.keep = ctypes.create_string_buffer(1)
            self.data, self.len, self.stride = ctypes.addressof(self.keep), 0, w * channels
            return
        if not self._fits(a):
            a = np.ascontiguousarray(a)
        self.keep = a  # the memory must outlive the call
        self.data = a.ctypes.data
        self.stride = self._stride(a)
        # the C ABI takes stride x height bytes (_fits checked they exist)
        self.len = self.stride * h

    def args(self) -> tuple:
        """The C ABI's raw-pixel arguments: data, len, width, height, stride, format."""
        return self.data, self.len, self.width, self.height, self.stride, self.format

    @staticmethod
    def _stride(a: Any) -> int:
        # NumPy may give a length-1 axis any stride
        return a.strides[0] if a.shape[0] > 1 else a.shape[1] * a.shape[2]

    @staticmethod
    def _fits(a: Any) -> bool:
        import numpy as np

        h, w, c = a.shape
        stride = _Pixels._stride(a)
        if (c > 1 and a.strides[2] != 1) or (w > 1 and a.strides[1] != c) or stride < w * c:
            return False
        # stride x height bytes from the first pixel must lie in memory the
        # array's outermost NumPy base owns (a bottom-right crop would not)
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        if not base.flags.c_contiguous:
            return False
        start = base.__array_interface__["data"][0]
        end = start + base.nbytes
        first = a.__array_interface__["data"][0]
        return start <= first and first + stride * h <= end


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _encoded(x: Any) -> tuple[Any, int]:
    """(pointer, length) of bytes-like input, without a copy where possible."""
    if isinstance(x, bytes):
        return ctypes.cast(ctypes.c_char_p(x), ctypes.c_void_p), len(x)
    m = memoryview(x).cast("B")
    n = m.nbytes
    if n == 0:
        return None, 0
    if m.readonly:
        b = m.tobytes()
        return ctypes.cast(ctypes.c_char_p(b), ctypes.c_void_p), n
    return ctypes.addressof((ctypes.c_ubyte * n).from_buffer(m)), n


# ---------------------------------------------------------------- pipeline


class Pipeline:
    """Detector, aligner and classifier with their ONNX Runtime sessions.

    Options mirror FacelessOptions (0 means the library's default):
    `min_face_size` (pixels, 20), `thresholds` (P/R/O-Net, 0.6 0.7 0.7),
    `threads` (ONNX Runtime threads per model run), `providers` ("cpu",
    "cuda", ... as a list or comma-separated string), `ort_library_path`
    (default: the installed onnxruntime 1.31.1 wheel's library, else the
    library's usual search), `model_dir` (default: the models built in),
    `max_pixels`, `max_concurrency` (calls served in parallel and images a
    batch runs at once; default the number of CPUs), `max_input_bytes` and
    `max_pixels_per_byte` (faceless_pipeline_set_input_limits), and
    `classifier`: "accurate" (default) or "fast", which takes less time and
    memory per face for somewhat lower accuracy (MODEL_CARD.md, "Accuracy
    against cost").

    One Pipeline may be shared by any number of threads; calls release the
    GIL and run in parallel. Use it as a context manager or call close().
    """

    def __init__(
        self,
        *,
        min_face_size: float = 20.0,
        thresholds: Sequence[float] = (0.6, 0.7, 0.7),
        threads: int = 0,
        providers: str | Iterable[str] | None = None,
        ort_library_path: str | os.PathLike | None = None,
        model_dir: str | os.PathLike | None = None,
        max_pixels: int = 0,
        max_concurrency: int = 0,
        max_input_bytes: int = 0,
        max_pixels_per_byte: int = 0,
        classifier: str = "accurate",
    ):
        self._handle: ctypes.c_void_p | None = None
        if classifier not in _native.CLASSIFIERS:
            raise ValueError(f"classifier: one of {', '.join(_native.CLASSIFIERS)}, not {classifier!r}")
        self.classifier = classifier
        o = _native.Options()
        lib.faceless_options_init(ctypes.byref(o))
        o.min_face_size = float(min_face_size)
        if len(thresholds) != 3:
            raise ValueError("thresholds: three values (P-Net, R-Net, O-Net)")
        o.thresholds[:] = [float(t) for t in thresholds]
        o.intra_threads = int(threads)
        if providers is not None and not isinstance(providers, str):
            providers = ",".join(providers)
        keep = []  # the option strings live until create returns

        def c_str(s):
            if s is None:
                return None
            b = os.fsencode(s) if not isinstance(s, str) else s.encode()
            keep.append(b)
            return b

        o.execution_providers = c_str(providers)
        if ort_library_path is None:
            ort_library_path = _native.ort_library_path()
        self.ort_library_path = None if ort_library_path is None else os.fspath(ort_library_path)
        o.ort_library_path = c_str(self.ort_library_path)
        o.model_dir = c_str(None if model_dir is None else os.fspath(model_dir))
        o.max_pixels = int(max_pixels)
        o.max_concurrency = int(max_concurrency)
        o.classifier = _native.CLASSIFIERS[classifier]
        handle = ctypes.c_void_p()
        _check(lib.faceless_pipeline_create(ctypes.byref(o), ctypes.byref(handle)))
        self._handle = handle
        if max_input_bytes or max_pixels_per_byte:
            _check(
                lib.faceless_pipeline_set_input_limits(
                    handle, int(max_input_bytes), int(max_pixels_per_byte)
                )
            )

    # -- lifetime

    def close(self) -> None:
        """Frees the native pipeline; no call may be running on it. Idempotent."""
        h, self._handle = self._handle, None
        if h is not None:
            lib.faceless_pipeline_free(h)

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _h(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise ValueError("the pipeline is closed")
        return self._handle

    # -- analysis

    def analyze(self, image: Any, *, format: str | None = None) -> Analysis:
        """Finds and classifies every face of `image`: a path (str or
        os.PathLike), encoded bytes (bytes, bytearray, memoryview: JPEG, PNG,
        BMP, WebP, GIF), or a NumPy uint8 array H x W x 3 (`format` "rgb",
        the default, or "bgr" as OpenCV gives it), H x W x 4 ("rgba", "bgra")
        or H x W (gray), with any strides. Raises FacelessError."""
        h = self._h()
        out = ctypes.POINTER(_native.Result)()
        if _is_path(image):
            shown, lossy = _shown_path(image)
            _check(lib.faceless_analyze_file(h, os.fsencode(image), ctypes.byref(out)))
            return _take_result(out, shown, lossy)
        if _is_array(image):
            px = _Pixels(image, format)  # held: its memory must outlive the call
            _check(lib.faceless_analyze_pixels(h, *px.args(), ctypes.byref(out)))
            return _take_result(out)
        data, n = _encoded(image)
        _check(lib.faceless_analyze_encoded(h, data, n, ctypes.byref(out)))
        return _take_result(out)

    def classify_aligned(self, chip: Any, *, format: str | None = None) -> Analysis:
        """Classifies one aligned face chip (as examples/aligned_chips.rs
        writes them; other sizes are resized) without detection: a NumPy
        array, encoded bytes, or a path to an image file. The one face's box
        is the whole chip, score 1, landmarks zero."""
        h = self._h()
        out = ctypes.POINTER(_native.Result)()
        shown, lossy = None, False
        if _is_array(chip):
            px = _Pixels(chip, format)  # held: its memory must outlive the call
            _check(lib.faceless_classify_aligned_pixels(h, *px.args(), ctypes.byref(out)))
            return _take_result(out)
        if _is_path(chip):
            shown, lossy = _shown_path(chip)
            try:
                # regular files only, as the library reads them: a FIFO would block
                if not stat.S_ISREG(os.stat(chip).st_mode):
                    raise FacelessError(_native.ERR_IO, f"{shown}: not a regular file")
                with open(chip, "rb") as f:
                    chip = f.read()
            except OSError as e:
                raise FacelessError(_native.ERR_IO, f"{shown}: {e.strerror or e}") from e
        data, n = _encoded(chip)
        _check(lib.faceless_classify_aligned_encoded(h, data, n, ctypes.byref(out)))
        return _take_result(out, shown, lossy)

    def analyze_batch(
        self, images: Sequence[Any], *, format: str | None = None
    ) -> list[BatchItem]:
        """Analyses many images (each as `analyze` takes them), up to
        `max_concurrency` at once on the library's threads, in one call.
        Returns one BatchItem per image, in order; an image that fails does
        not fail the others. Raises only when the call itself cannot run."""
        h = self._h()
        n = len(images)
        if n == 0:
            return []
        c_images = (_native.Image * n)()
        keep: list[Any] = []
        shown: list[tuple[str | None, bool]] = []
        for i, x in enumerate(images):
            ci = c_images[i]
            if _is_path(x):
                p = os.fsencode(x)
                keep.append(p)
                ci.kind, ci.path = _native.KIND_FILE, p
                shown.append(_shown_path(x))
            elif _is_array(x):
                px = _Pixels(x, format)
                keep.append(px)
                ci.kind, ci.data, ci.len = _native.KIND_PIXELS, px.data, px.len
                ci.width, ci.height, ci.stride, ci.format = px.width, px.height, px.stride, px.format
                shown.append((None, False))
            else:
                if isinstance(x, bytes):
                    keep.append(x)
                    ci.data, ci.len = ctypes.cast(ctypes.c_char_p(x), ctypes.c_void_p), len(x)
                else:
                    m = memoryview(x).cast("B")
                    b = m.tobytes() if m.readonly else m
                    keep.append(b)
                    data, ci.len = _encoded(b)
                    ci.data = data
                ci.kind = _native.KIND_ENCODED
                shown.append((None, False))
        outcomes = (_native.ImageOutcome * n)()
        _check(lib.faceless_analyze_images(h, c_images, n, outcomes))
        items: list[BatchItem] = []
        try:
            for i in range(n):
                o = outcomes[i]
                if o.status == _native.OK:
                    r = o.result.contents
                    faces = tuple(Face._from_c(r.faces[j]) for j in range(r.face_count))
                    a = Analysis(int(r.width), int(r.height), faces, *shown[i])
                    items.append(BatchItem(a, None))
                else:
                    msg = ctypes.string_at(o.message).decode("utf-8", "replace") if o.message else ""
                    items.append(BatchItem(None, FacelessError(o.status, msg)))
        finally:
            lib.faceless_image_outcomes_free(outcomes, n)
        return items


def _is_array(x: Any) -> bool:
    # NumPy is imported only by whoever passes an array
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray)
