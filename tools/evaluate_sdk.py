#!/usr/bin/env python3
"""Accuracy of the classifier as the SDK delivers it, on our UTKFace test split.

The model card's numbers come from training/ (chips resized straight to the
model input). A user of the SDK gets something else: the detector finds the
face in the chip, the pipeline aligns it to the template, then classifies.
This script measures both paths with the release CLI, on the same test
images, so that the difference alignment makes is measured, not assumed:

  * `aligned`  : `faceless analyze --aligned`  (the chip as the model saw it)
  * `pipeline` : `faceless analyze`            (detect -> align -> classify;
                 the most confident face; chips where no face is found count
                 as misses)
  * `scene`    : `faceless analyze` on each chip pasted into a larger photo
                 (--scenes: 640x480 JPEG, a smooth random background, the chip
                 scaled by 0.5-1.3 at a random place), so the face is found,
                 aligned and resampled like any face in a photo; needs Pillow.

`--aligned-dir DIR` takes the `aligned` inputs from DIR (chips the SDK has
already aligned to the classifier's template, e.g. training/out/chips186)
instead of the raw UTKFace chips.

Writes JSON to stdout.
    python3 tools/evaluate_sdk.py [--samples 1000] [--scenes] [--aligned-dir DIR] [--classifier fast]
"""
import argparse
import csv
import json
import os
import random

import cli_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cli, paths, aligned, classifier):
    options = ["--classifier", classifier] + (["--aligned"] if aligned else [])
    return {rec["image"]: rec["faces"][0] if rec["faces"] else None
            for rec in cli_json.records(cli, "analyze", paths, options)}


def make_scenes(paths, dest, seed):
    """Each chip pasted into its own 640x480 JPEG; returns the scene paths."""
    from PIL import Image, ImageFilter
    rng = random.Random(seed)
    os.makedirs(dest, exist_ok=True)
    scenes = []
    for p in paths:
        base = Image.new("RGB", (8, 6))
        base.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(48)])
        canvas = base.resize((640, 480), Image.BICUBIC).filter(ImageFilter.GaussianBlur(8))
        chip = Image.open(p).convert("RGB")
        side = int(chip.width * rng.uniform(0.5, 1.3))
        chip = chip.resize((side, side), Image.BICUBIC)
        canvas.paste(chip, (rng.randrange(640 - side), rng.randrange(480 - side)))
        out = os.path.join(dest, os.path.basename(p) + ".scene.jpg")
        canvas.save(out, quality=92)
        scenes.append(out)
    return scenes


def score(rows, preds, paths):
    n = len(rows)
    found = g = e = grp = grp1 = 0
    err = 0.0
    for (age, gender, eth, group), p in zip(rows, paths):
        f = preds.get(p)
        if f is None:
            continue
        found += 1
        g += f["gender"]["label"] == ["male", "female"][gender]
        e += f["ethnicity"]["label"] == ["white", "black", "asian", "indian", "others"][eth]
        grp += f["age_group"]["index"] == group
        grp1 += abs(f["age_group"]["index"] - group) <= 1
        err += abs(f["age"] - age)
    return {"images": n, "faces_found": found,
            "gender_acc": round(g / n, 4), "ethnicity_acc": round(e / n, 4),
            "age_group_exact": round(grp / n, 4), "age_group_within_one": round(grp1 / n, 4),
            "age_mae_on_found": round(err / max(found, 1), 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "datasets", "utkface", "images"))
    ap.add_argument("--manifest", default=os.path.join(ROOT, "training", "report", "manifest.csv"))
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cli", default=os.path.join(ROOT, "target", "release", "faceless"))
    ap.add_argument("--classifier", default="accurate", help="the CLI's --classifier")
    ap.add_argument("--aligned-dir", help="take the --aligned inputs from here (same file names)")
    ap.add_argument("--scenes", action="store_true", help="also measure the chips pasted into larger photos")
    ap.add_argument("--scene-dir", default=os.path.join(ROOT, "training", "out", "scenes"))
    a = ap.parse_args()
    with open(a.manifest, newline="") as f:
        test = [r for r in csv.DictReader(f) if r["split"] == "test"]
    random.Random(a.seed).shuffle(test)
    test = test[: a.samples]
    paths = [os.path.join(a.data_dir, r["file"]) for r in test]
    rows = [(int(r["age"]), int(r["gender"]), int(r["ethnicity"]), int(r["age_group"])) for r in test]
    result = {
        "split": "test", "seed": a.seed,
        "pipeline": score(rows, run(a.cli, paths, False, a.classifier), paths),
    }
    aligned = [os.path.join(a.aligned_dir, r["file"]) for r in test] if a.aligned_dir else paths
    result["aligned"] = score(rows, run(a.cli, aligned, True, a.classifier), aligned)
    if a.scenes:
        scenes = make_scenes(paths, a.scene_dir, a.seed)
        result["scene"] = score(rows, run(a.cli, scenes, False, a.classifier), scenes)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
