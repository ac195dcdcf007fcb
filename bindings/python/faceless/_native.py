"""ctypes declarations of include/faceless.h and the loading of libfaceless.

ctypes (not cffi) keeps the binding to one standard-library module with no
build step; a ctypes.CDLL releases the GIL for the length of every foreign
call, so threads sharing a Pipeline run in parallel.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    POINTER,
    Structure,
    c_char_p,
    c_float,
    c_int32,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

# include/faceless.h: FACELESS_ABI_VERSION and the status codes
ABI_VERSION = 1
OK = 0
ERR_NULL_POINTER = 1
ERR_INVALID_ARGUMENT = 2
ERR_IO = 3
ERR_DECODE = 4
ERR_IMAGE_TOO_LARGE = 5
ERR_RUNTIME = 6
ERR_EXECUTION_PROVIDER_UNAVAILABLE = 7
ERR_MODEL = 8
ERR_INFERENCE = 9
ERR_INTERNAL = 10

# FacelessPixelFormat
PIXEL_FORMATS = {"rgb": 0, "bgr": 1, "rgba": 2, "bgra": 3, "gray": 4}
# FacelessOptions.classifier: FACELESS_CLASSIFIER_ACCURATE, FACELESS_CLASSIFIER_FAST
CLASSIFIERS = {"accurate": 0, "fast": 1}
# FacelessImageKind
KIND_FILE, KIND_ENCODED, KIND_PIXELS = 0, 1, 2


class Prediction(Structure):
    _fields_ = [
        ("index", c_int32),
        ("label", c_char_p),
        ("prob", c_float),
        ("count", c_size_t),
        ("probs", POINTER(c_float)),
        ("labels", POINTER(c_char_p)),
    ]


class Face(Structure):
    _fields_ = [
        ("id", c_uint32),
        ("bbox", c_float * 4),
        ("score", c_float),
        ("landmarks", (c_float * 2) * 5),
        ("age_years", c_float),
        ("age_group", Prediction),
        ("gender", Prediction),
        ("ethnicity", Prediction),
    ]


class Result(Structure):
    _fields_ = [
        ("width", c_uint32),
        ("height", c_uint32),
        ("face_count", c_size_t),
        ("faces", POINTER(Face)),
    ]


class Image(Structure):
    _fields_ = [
        ("kind", c_int32),
        ("path", c_char_p),
        ("data", c_void_p),
        ("len", c_size_t),
        ("width", c_uint32),
        ("height", c_uint32),
        ("stride", c_size_t),
        ("format", c_int32),
    ]


class ImageOutcome(Structure):
    _fields_ = [
        ("status", c_int32),
        ("result", POINTER(Result)),
        ("message", c_void_p),  # char *, owned by the outcome: read, never freed here
    ]


class Options(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("min_face_size", c_float),
        ("thresholds", c_float * 3),
        ("intra_threads", c_int32),
        ("execution_providers", c_char_p),
        ("ort_library_path", c_char_p),
        ("model_dir", c_char_p),
        ("max_pixels", c_uint64),
        ("max_concurrency", c_uint32),
        ("classifier", c_uint32),
    ]


_PIPE = c_void_p
_OUT = POINTER(POINTER(Result))
_SIGNATURES = {
    "faceless_version": (c_char_p, []),
    "faceless_abi_version": (c_uint32, []),
    "faceless_status_string": (c_char_p, [c_int32]),
    "faceless_last_error": (c_char_p, []),
    "faceless_options_init": (None, [POINTER(Options)]),
    "faceless_pipeline_create": (c_int32, [POINTER(Options), POINTER(_PIPE)]),
    "faceless_pipeline_set_input_limits": (c_int32, [_PIPE, c_uint64, c_uint64]),
    "faceless_pipeline_free": (None, [_PIPE]),
    "faceless_result_free": (None, [POINTER(Result)]),
    "faceless_analyze_file": (c_int32, [_PIPE, c_char_p, _OUT]),
    "faceless_analyze_encoded": (c_int32, [_PIPE, c_void_p, c_size_t, _OUT]),
    "faceless_analyze_pixels": (
        c_int32,
        [_PIPE, c_void_p, c_size_t, c_uint32, c_uint32, c_size_t, c_int32, _OUT],
    ),
    "faceless_analyze_images": (
        c_int32,
        [_PIPE, POINTER(Image), c_size_t, POINTER(ImageOutcome)],
    ),
    "faceless_image_outcomes_free": (None, [POINTER(ImageOutcome), c_size_t]),
    "faceless_classify_aligned_pixels": (
        c_int32,
        [_PIPE, c_void_p, c_size_t, c_uint32, c_uint32, c_size_t, c_int32, _OUT],
    ),
    "faceless_classify_aligned_encoded": (c_int32, [_PIPE, c_void_p, c_size_t, _OUT]),
}


def library_path() -> str:
    """libfaceless as the wheel carries it, or FACELESS_LIBRARY when set (a
    library under development)."""
    explicit = os.environ.get("FACELESS_LIBRARY")
    if explicit:
        return explicit
    return str(Path(__file__).resolve().parent / "libfaceless.so.0")


def _load() -> ctypes.CDLL:
    path = library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            f"faceless: cannot load {path}: {e} (set FACELESS_LIBRARY to a libfaceless.so.0)"
        ) from e
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    if lib.faceless_abi_version() != ABI_VERSION:
        raise ImportError(
            f"faceless: {path} implements ABI {lib.faceless_abi_version()}, "
            f"this package was written for ABI {ABI_VERSION}"
        )
    return lib


lib = _load()


def ort_library_path() -> str | None:
    """The ONNX Runtime library of an installed onnxruntime 1.31.1 wheel
    (onnxruntime or onnxruntime-gpu), found from the distribution's metadata
    without importing its Python module; None when there is none, so that
    libfaceless searches as usual (ORT_DYLIB_PATH, then beside itself).
    ORT_DYLIB_PATH, when set, wins: it is the user's explicit choice."""
    if os.environ.get("ORT_DYLIB_PATH"):
        return None
    from importlib import metadata

    for dist_name in ("onnxruntime", "onnxruntime-gpu"):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != "1.31.1":
            continue
        candidate = Path(str(dist.locate_file("onnxruntime/capi/libonnxruntime.so.1.31.1")))
        if candidate.is_file():
            return str(candidate)
    return None
