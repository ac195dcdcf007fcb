"""Backbone features of aligned chips, computed once and cached (numpy .npz).

    python -m training.features --chips training/out/chips186 --out training/out/features186/clean.npz
    python -m training.features ... --degrade --seed 7 --splits train --out .../degraded.npz
    python -m training.features ... --shard 0/2   # run shards in parallel processes

Rows follow the split manifest (training/report/manifest.csv) order, filtered by
--splits; a file list (`--files`) is used instead for chips without labels.
"""
import argparse
import csv
import os
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

from training import cpu
from training.chip import INPUT
from training.degrade import degrade


def session_options(threads):
    """ONNX Runtime options as the SDK sets them for int8 graphs: on x86 CPUs without VNNI the fast
    u8 x s8 kernels saturate, so there the int8 layers run as exact u8 x u8 products
    (src/runtime/mod.rs), and features match those of a VNNI CPU."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    flags = cpu.flags()
    if flags and not cpu.VNNI & flags:  # x86 (it reports "flags"), without VNNI
        so.add_session_config_entry("session.x64quantprecision", "1")
    return so


def load_chip(path):
    """The chip, and whether it is one: export_aligned copies the original image where
    it found no face; that is resized so the batch stays whole, and flagged."""
    img = Image.open(path).convert("RGB")
    side = (INPUT, INPUT)
    return np.asarray(img.resize(side, Image.BILINEAR) if img.size != side else img, np.uint8), img.size == side


def compute(session, paths, rng=None, flip=False, batch=32, log_every=2000):
    names = [o.name for o in session.get_outputs()]
    out = {n: [] for n in names}
    out["aligned"] = []
    t0 = time.time()
    for i in range(0, len(paths), batch):
        chips, aligned = zip(*(load_chip(p) for p in paths[i:i + batch]))
        out["aligned"].append(np.array(aligned).reshape(-1, 1))
        if rng is not None:
            chips = [degrade(c, rng) for c in chips]
        if flip:
            chips = [c[:, ::-1] for c in chips]
        x = np.stack(chips).transpose(0, 3, 1, 2).astype(np.float32)
        for n, v in zip(names, session.run(names, {"input": x})):
            out[n].append(v.reshape(len(chips), -1))
        if (i // batch) % max(log_every // batch, 1) == 0:
            print(f"[features] {i + len(chips)}/{len(paths)} in {time.time() - t0:.0f} s", flush=True)
    return {n: np.concatenate(v) for n, v in out.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="training/out/backbones.onnx")
    ap.add_argument("--chips", required=True)
    ap.add_argument("--split-csv", default="training/report/manifest.csv")
    ap.add_argument("--splits", default="train,val,test")
    ap.add_argument("--files", help="a text file of chip names instead of the manifest")
    ap.add_argument("--degrade", action="store_true", help="apply training.degrade to every chip")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--flip", action="store_true", help="mirror every chip left-right")
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.files:
        with open(a.files) as f:
            files = [line.strip() for line in f if line.strip()]
    else:
        with open(a.split_csv, newline="") as f:
            files = [r["file"] for r in csv.DictReader(f) if r["split"] in a.splits.split(",")]
    k, n = (int(v) for v in a.shard.split("/"))
    files = files[k::n]
    session = ort.InferenceSession(a.model, session_options(a.threads), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng([a.seed, k]) if a.degrade else None
    feats = compute(session, [os.path.join(a.chips, f) for f in files], rng, a.flip)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez(a.out, files=np.array(files), **feats)
    print(f"[features] wrote {a.out}: {len(files)} chips")


if __name__ == "__main__":
    main()
