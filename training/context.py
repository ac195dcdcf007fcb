"""UTKFace images placed in surroundings, for chips that show what real photos show around a face.

A UTKFace image is a 200 px crop; the classifier's chip (training/chip.py) reaches past it, and
the SDK's aligner fills what lies outside an image by repeating its border pixels. Chips aligned
from UTKFace images therefore show smeared border stripes where a photo shows hair, shoulders,
a wall or other people, and heads trained on them alone learn those stripes: the same test faces
pasted into larger photos lose accuracy (tools/evaluate_sdk.py --scenes; training/README.md).

Each image is put on a canvas MARGIN px larger on every side, at a small random shift, and the
canvas around it is filled with one of SURROUNDS:

  edge     the border pixels repeated (what aligning the bare image gives);
  mirror   the image reflected at its edges (hair and clothes continued);
  colour   one random colour with sensor noise (a plain wall);
  gradient a random linear gradient between two colours (sky, studio light);
  photo    another training image, enlarged and blurred (a crowd or a busy background).

Deterministic per file name and seed, independent of order. Writes JPEG (quality 95) under the
same file names; export_aligned then aligns them as it aligns any photo.

    python -m training.context --data-dir ../shared/datasets/utkface/images --out training/out/context
"""
import argparse
import csv
import os
import zlib
from multiprocessing import Pool

import numpy as np
from PIL import Image, ImageFilter

MARGIN = 60
SHIFT = 20
SURROUNDS = ["edge", "mirror", "colour", "gradient", "photo"]


def _rng(name, seed):
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def surround(img, kind, rng, other=None):
    """`img` (H x W x 3 uint8) on a canvas MARGIN px larger each side, placed SHIFT px or less
    off centre, with the surround `kind`; `other` is the image a `photo` surround shows."""
    h, w = img.shape[:2]
    dx, dy = (int(v) for v in rng.integers(-SHIFT, SHIFT + 1, size=2))
    top, left = MARGIN + dy, MARGIN + dx
    bottom, right = 2 * MARGIN - top, 2 * MARGIN - left
    big_h, big_w = h + 2 * MARGIN, w + 2 * MARGIN
    if kind in ("edge", "mirror"):
        mode = "edge" if kind == "edge" else "symmetric"
        return np.pad(img, ((top, bottom), (left, right), (0, 0)), mode=mode)
    if kind == "colour":
        canvas = np.broadcast_to(rng.integers(0, 256, size=3), (big_h, big_w, 3)).astype(np.float32)
        canvas = canvas + rng.normal(0, rng.uniform(1, 8), size=canvas.shape)
    elif kind == "gradient":
        a, b = rng.integers(0, 256, size=(2, 3)).astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:big_h, 0:big_w].astype(np.float32)
        t = (np.cos(angle) * xx / big_w + np.sin(angle) * yy / big_h)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        canvas = a + (b - a) * t[..., None]
    elif kind == "photo":
        zoom = rng.uniform(1.2, 2.5)
        bg = Image.fromarray(other).resize((int(big_w * zoom), int(big_h * zoom)), Image.BILINEAR)
        x0 = int(rng.integers(0, bg.size[0] - big_w + 1))
        y0 = int(rng.integers(0, bg.size[1] - big_h + 1))
        bg = bg.crop((x0, y0, x0 + big_w, y0 + big_h)).filter(ImageFilter.GaussianBlur(rng.uniform(0, 4)))
        canvas = np.asarray(bg, np.float32)
    else:
        raise ValueError(f"unknown surround {kind!r}")
    canvas = np.clip(canvas, 0, 255).astype(np.uint8)
    canvas[top:top + h, left:left + w] = img
    return canvas


def _one(job):
    name, other, data_dir, out, seed = job
    dest = os.path.join(out, name)
    if os.path.exists(dest):
        return
    rng = _rng(name, seed)
    kind = SURROUNDS[int(rng.integers(len(SURROUNDS)))]
    img = np.asarray(Image.open(os.path.join(data_dir, name)).convert("RGB"))
    bg = np.asarray(Image.open(os.path.join(data_dir, other)).convert("RGB")) if kind == "photo" else None
    Image.fromarray(surround(img, kind, rng, bg)).save(dest, "JPEG", quality=95)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default="../shared/datasets/utkface/images")
    ap.add_argument("--split-csv", default="training/report/manifest.csv")
    ap.add_argument("--splits", default="train")
    ap.add_argument("--out", default="training/out/context")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    with open(a.split_csv, newline="") as f:
        names = [r["file"] for r in csv.DictReader(f) if r["split"] in a.splits.split(",")]
    os.makedirs(a.out, exist_ok=True)
    # A `photo` surround shows another image of the same splits, picked by file name and seed.
    jobs = [(n, names[int(_rng(n, a.seed + 1).integers(len(names)))], a.data_dir, a.out, a.seed) for n in names]
    with Pool(a.workers) as pool:
        pool.map(_one, jobs, chunksize=64)
    print(f"[context] {len(names)} images in surroundings under {a.out}")


if __name__ == "__main__":
    main()
