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
                 The face scored is the most confident one whose box centre
                 lies inside the pasted chip.
  * `scene_stripes`, `scene_photo` (--backgrounds stripes,photo): the same
                 with other backgrounds: sinusoidal stripes or checks of two
                 random colours (no surround training/context.py trains
                 with); a part of one of the group photos in
                 ../shared/datasets/photos, blurred (radius 6).

`--aligned-dir DIR` takes the `aligned` inputs from DIR (chips the SDK has
already aligned to the classifier's template, e.g. training/out/chips186)
instead of the raw UTKFace chips.

Writes JSON to stdout.
    python3 tools/evaluate_sdk.py [--samples 1000] [--scenes] [--backgrounds stripes,photo] [--aligned-dir DIR] [--classifier fast]
"""
import argparse
import csv
import json
import os
import random

import cli_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cli, models, paths, aligned, classifier, places=None):
    """The first face of each image (faces come best first), or with `places` (image ->
    (x, y, side) of the pasted chip) the first whose box centre lies inside the chip.
    `models`: the CLI's --models, or None for its embedded models."""
    options = (["--models", models] if models else []) + ["--classifier", classifier] + (["--aligned"] if aligned else [])

    def pick(rec):
        faces = rec["faces"]
        if places is not None:
            x, y, side = places[rec["image"]]
            faces = [f for f in faces
                     if x <= (f["box"][0] + f["box"][2]) / 2 <= x + side and y <= (f["box"][1] + f["box"][3]) / 2 <= y + side]
        return faces[0] if faces else None
    return {rec["image"]: pick(rec) for rec in cli_json.records(cli, "analyze", paths, options)}


def smooth_background(rng, photos):
    from PIL import Image, ImageFilter
    base = Image.new("RGB", (8, 6))
    base.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(48)])
    return base.resize((640, 480), Image.BICUBIC).filter(ImageFilter.GaussianBlur(8))


def stripes_background(rng, photos):
    import numpy as np
    from PIL import Image
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
    a, b = (np.array([rng.randrange(256) for _ in range(3)], np.float32) for _ in range(2))
    freq, angle = rng.uniform(0.02, 0.3), rng.uniform(0, np.pi)
    t = np.sin((np.cos(angle) * xx + np.sin(angle) * yy) * freq)
    if rng.random() < 0.5:  # checks
        t = t * np.sin((-np.sin(angle) * xx + np.cos(angle) * yy) * freq)
    noise = np.array([rng.gauss(0, 4) for _ in range(64)], np.float32)
    c = a + (b - a) * ((t + 1) / 2)[..., None] + noise[(xx.astype(int) * 7 + yy.astype(int) * 13) % 64][..., None]
    return Image.fromarray(np.clip(c, 0, 255).astype(np.uint8))


def photo_background(rng, photos):
    from PIL import Image, ImageFilter
    p = photos[rng.randrange(len(photos))]
    zoom = rng.uniform(1.0, 2.0)
    w, h = max(int(p.width * zoom), 640), max(int(p.height * zoom), 480)
    p = p.resize((w, h), Image.BILINEAR)
    x, y = rng.randrange(w - 640 + 1), rng.randrange(h - 480 + 1)
    return p.crop((x, y, x + 640, y + 480)).filter(ImageFilter.GaussianBlur(6))


BACKGROUNDS = {"smooth": smooth_background, "stripes": stripes_background, "photo": photo_background}


def make_scenes(paths, dest, seed, background="smooth"):
    """Each chip pasted into its own 640x480 JPEG; returns the scene paths and where each chip lies."""
    from PIL import Image
    rng = random.Random(seed)
    dest = os.path.join(dest, background) if background != "smooth" else dest
    os.makedirs(dest, exist_ok=True)
    photos = []
    if background == "photo":
        folder = os.path.join(ROOT, "..", "shared", "datasets", "photos")
        photos = [Image.open(os.path.join(folder, n)).convert("RGB") for n in sorted(os.listdir(folder)) if n.endswith(".jpg")]
    scenes, places = [], {}
    for p in paths:
        canvas = BACKGROUNDS[background](rng, photos)
        chip = Image.open(p).convert("RGB")
        side = int(chip.width * rng.uniform(0.5, 1.3))
        chip = chip.resize((side, side), Image.BICUBIC)
        x, y = rng.randrange(640 - side), rng.randrange(480 - side)
        canvas.paste(chip, (x, y))
        out = os.path.join(dest, os.path.basename(p) + ".scene.jpg")
        canvas.save(out, quality=92)
        scenes.append(out)
        places[out] = (x, y, side)
    return scenes, places


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
    ap.add_argument("--models", help="the CLI's --models (default: its embedded models)")
    ap.add_argument("--aligned-dir", help="take the --aligned inputs from here (same file names)")
    ap.add_argument("--scenes", action="store_true", help="also measure the chips pasted into larger photos")
    ap.add_argument("--scene-dir", default=os.path.join(ROOT, "training", "out", "scenes"))
    ap.add_argument("--backgrounds", default="", help="also these scene backgrounds (stripes, photo), comma-separated")
    a = ap.parse_args()
    with open(a.manifest, newline="") as f:
        test = [r for r in csv.DictReader(f) if r["split"] == "test"]
    random.Random(a.seed).shuffle(test)
    test = test[: a.samples]
    paths = [os.path.join(a.data_dir, r["file"]) for r in test]
    rows = [(int(r["age"]), int(r["gender"]), int(r["ethnicity"]), int(r["age_group"])) for r in test]
    result = {
        "split": "test", "seed": a.seed,
        "pipeline": score(rows, run(a.cli, a.models, paths, False, a.classifier), paths),
    }
    aligned = [os.path.join(a.aligned_dir, r["file"]) for r in test] if a.aligned_dir else paths
    result["aligned"] = score(rows, run(a.cli, a.models, aligned, True, a.classifier), aligned)
    backgrounds = (["smooth"] if a.scenes else []) + [b for b in a.backgrounds.split(",") if b]
    for background in backgrounds:
        scenes, places = make_scenes(paths, a.scene_dir, a.seed, background)
        key = "scene" if background == "smooth" else "scene_" + background
        result[key] = score(rows, run(a.cli, a.models, scenes, False, a.classifier, places), scenes)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
