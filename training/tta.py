"""Test-time augmentation measured on the committed model: does averaging more views than the
in-graph flip raise accuracy?

    python -m training.tta [--data-dir training/out/aligned] [--limit N] [--threads 2]

Each validation and test chip (the split in training/report/manifest.csv) is cut into VIEWS: the
whole 200x200 chip, zoomed in or out by 6 %, shifted by 6 px, or both, each resized to the model
input with the same filter as the training cache. The ONNX model (which already averages each view
with its mirror image) scores every view; the table gives each view alone and the probability mean
of several sets of views, per split. Validation decides; test only confirms.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from PIL import Image

from . import data
from .evaluate import softmax

# (zoom, dx, dy): zoom > 1 zooms in; shifts in chip pixels (the chip is 200x200)
VIEWS = [(1.0, 0, 0), (1.06, 0, 0), (0.94, 0, 0), (1.0, 6, 0), (1.0, -6, 0), (1.0, 0, 6), (1.0, 0, -6),
         (1.06, 5, 5), (1.06, -5, -5), (1.06, 5, -5), (1.06, -5, 5)]
SETS = {"whole chip only (shipped)": [0], "+ zoom in/out": [0, 1, 2], "+ 4 shifts": [0, 3, 4, 5, 6],
        "all 11 views": list(range(len(VIEWS)))}
PAD = 24  # reflection padding, as the training augmentation pads (enough for the zoom-out view)


def views(path: str, size: int) -> np.ndarray:
    """uint8 [len(VIEWS), size, size, 3]."""
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"))
    h, w = a.shape[:2]
    padded = Image.fromarray(np.pad(a, ((PAD, PAD), (PAD, PAD), (0, 0)), mode="reflect"))
    out = []
    for zoom, dx, dy in VIEWS:
        cx, cy, hw, hh = w / 2 + PAD + dx, h / 2 + PAD + dy, w / 2 / zoom, h / 2 / zoom
        out.append(np.asarray(padded.resize((size, size), Image.BILINEAR, box=(cx - hw, cy - hh, cx + hw, cy + hh))))
    return np.stack(out)


def score(records, model_dir: str, data_dir: str, threads: int, batch: int = 16):
    import onnxruntime as ort

    man = json.load(open(os.path.join(model_dir, "faceless-attributes.json")))
    mean, std = (np.array(man["input"][k], np.float32) for k in ("mean", "std"))
    size = man["input"]["size"][0]
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(os.path.join(model_dir, man["onnx"]), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    out = {k: [] for k in names}
    t = time.time()
    for i in range(0, len(records), batch):
        x = np.stack([views(os.path.join(data_dir, r.file), size) for r in records[i:i + batch]])
        b, v = x.shape[:2]
        x = ((x.reshape(b * v, size, size, 3).astype(np.float32) / 255 - mean) / std).transpose(0, 3, 1, 2)
        for k, y in zip(names, sess.run(names, {man["input"]["name"]: np.ascontiguousarray(x)})):
            out[k].append(y.reshape(b, v, *y.shape[1:]))
        if i % (40 * batch) == 0:
            print(f"[tta] {i}/{len(records)} {time.time() - t:.0f}s", flush=True)
    return {k: np.concatenate(v) for k, v in out.items()}


def table(out, records) -> str:
    g = np.array([r.gender for r in records])
    e = np.array([r.ethnicity for r in records])
    age = np.array([r.age for r in records], np.float64)
    split = np.array([r.split for r in records])
    # probabilities per chip and view [N, views, classes], computed once for every row below
    pg_views, pe_views = (np.stack([softmax(out[k][:, j]) for j in range(len(VIEWS))], 1)
                          for k in ("gender_logits", "ethnicity_logits"))
    rows = [(f"view {j} {VIEWS[j]}", [j]) for j in range(len(VIEWS))] + list(SETS.items())
    lines = ["| views (zoom, dx, dy) | split | gender | ethnicity | age MAE |", "|---|---|---|---|---|"]
    for s in ("val", "test"):
        m = split == s
        for name, idx in rows:
            pg, pe = pg_views[m][:, idx].mean(1), pe_views[m][:, idx].mean(1)
            mae = np.abs(out["age_years"][m][:, idx].mean(1) - age[m]).mean()
            lines.append(f"| {name} | {s} | {(pg.argmax(1) == g[m]).mean():.2%} | "
                         f"{(pe.argmax(1) == e[m]).mean():.2%} | {mae:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.path.join("training", "out", "aligned"),
                   help="the chips the model was trained on (train.sh writes the SDK-aligned ones here)")
    p.add_argument("--manifest", default=os.path.join("training", "report", "manifest.csv"))
    p.add_argument("--model-dir", default=os.path.join("models", "classifier"))
    p.add_argument("--limit", type=int, default=0, help="only the first N validation+test chips (smoke test)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    records = [r for r in data.read_manifest(args.manifest) if r.split in ("val", "test")]
    if args.limit:
        records = records[: args.limit]
    print(table(score(records, args.model_dir, args.data_dir, args.threads), records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
