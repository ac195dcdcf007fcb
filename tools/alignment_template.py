#!/usr/bin/env python3
"""Derive the classifier's canonical alignment template from its training data.

Runs OUR detector (`faceless detect --json`, the same MTCNN the SDK runs) on
training chips of UTKFace, keeps the chips where exactly one confident face was
found, and takes the per-coordinate median of the five landmarks, in chip
pixels. The result is merged into the classifier manifest as `alignment`; the
pipeline warps every detected face so its landmarks land there, which makes
the runtime crops look like the training chips.

Standard library only. Usage (from the repository root, after `cargo build --release`):

    python3 tools/alignment_template.py [--data-dir ../shared/datasets/utkface/images]
        [--split-csv training/out/manifest.csv] [--samples 3000]
"""
import argparse
import csv
import json
import os
import random
import statistics
import sys

import cli_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "datasets", "utkface", "images"))
    ap.add_argument("--split-csv", default=os.path.join(ROOT, "training", "out", "manifest.csv"),
                    help="training manifest; only its train split is used")
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20161)
    ap.add_argument("--min-score", type=float, default=0.95)
    ap.add_argument("--faceless", default=os.path.join(ROOT, "target", "release", "faceless"))
    ap.add_argument("--manifest", default=os.path.join(ROOT, "models", "classifier", "faceless-attributes.json"))
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()

    with open(args.split_csv, newline="") as f:
        files = sorted(r["file"] for r in csv.DictReader(f) if r["split"] == "train")
    random.Random(args.seed).shuffle(files)
    files = files[: args.samples]

    points = [[[], []] for _ in range(5)]
    used = 0
    sizes = set()
    for i in range(0, len(files), args.batch):
        paths = [os.path.join(args.data_dir, f) for f in files[i : i + args.batch]]
        # Chips are tight crops: faces fill them, so no small-face search is needed.
        for rec in cli_json.records(args.faceless, "detect", paths, ["--min-face", "40"], batch=args.batch):
            faces = rec["faces"]
            if len(faces) != 1 or faces[0]["score"] < args.min_score:
                continue
            sizes.add((rec["width"], rec["height"]))
            used += 1
            for k, (x, y) in enumerate(faces[0]["landmarks"]):
                points[k][0].append(x)
                points[k][1].append(y)
        print(f"[template] {min(i + args.batch, len(files))}/{len(files)} chips, {used} usable", file=sys.stderr)
    if used < 100 or len(sizes) != 1:
        sys.exit(f"too few usable chips ({used}) or mixed chip sizes {sizes}")
    (w, h), = sizes
    template = [[round(statistics.median(xs), 3), round(statistics.median(ys), 3)] for xs, ys in points]
    spread = [[round(statistics.pstdev(xs), 2), round(statistics.pstdev(ys), 2)] for xs, ys in points]

    with open(args.manifest) as f:
        manifest = json.load(f)
    manifest["alignment"] = {
        "chip_size": [w, h],
        "landmarks": template,
        "landmark_order": ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"],
        "method": "median of faceless-detected landmarks on UTKFace training chips",
        "chips_sampled": len(files),
        "chips_used": used,
        "seed": args.seed,
        "std_px": spread,
    }
    with open(args.manifest, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps(manifest["alignment"], indent=2))


if __name__ == "__main__":
    main()
