"""Decode every UTKFace chip ONCE, resized to the model input size, into a uint8 numpy cache.

The whole 200x200 chip is resized to SxS (no crop) with PIL's BILINEAR filter (which
antialiases when downscaling, i.e. a triangle filter), RGB, HWC uint8.
"""
from __future__ import annotations

import hashlib
import os
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

RESAMPLE = "PIL.Image.BILINEAR (antialiased triangle filter) of the whole 200x200 chip"


def load_chip(path: str, size: int) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


def _work(args):
    data_dir, names, size = args
    return np.stack([load_chip(os.path.join(data_dir, n), size) for n in names])


def build_cache(data_dir: str, files, size: int, cache_dir: str, workers: int = 2) -> np.ndarray:
    """Returns uint8 array [N, S, S, 3] in the order of `files`; cached on disk by content key."""
    files = list(files)
    key = hashlib.sha256(("\n".join(files) + f"|{size}|{os.path.abspath(data_dir)}").encode()).hexdigest()[:16]
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"utkface_{size}_{key}.npy")
    if os.path.exists(path):
        arr = np.load(path)
        if arr.shape == (len(files), size, size, 3):
            print(f"[cache] loaded {path} {arr.shape}", flush=True)
            return arr
    t = time.time()
    chunks = [files[i:i + 500] for i in range(0, len(files), 500)]
    with Pool(workers) as pool:
        parts = pool.map(_work, [(data_dir, c, size) for c in chunks])
    arr = np.concatenate(parts)
    # A per-process temporary name: members trained in parallel (--train-members) may all build the
    # cache at once; each writes its own file and the atomic rename lets the last one win.
    tmp = f"{path}.{os.getpid()}.tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, path)
    print(f"[cache] decoded {len(files)} chips at {size}x{size} in {time.time() - t:.0f}s -> {path}", flush=True)
    return arr
