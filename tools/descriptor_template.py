#!/usr/bin/env python3
"""Where dlib's face chip puts OUR detector's five landmarks.

The descriptor network (tools/convert_dlib_resnet.py) was trained on chips cut by
`dlib.get_face_chip(img, shape5, size=150, padding=0.25)` from dlib's own 5-point
landmarks (eye corners and the base of the nose). The SDK has MTCNN's landmarks
(eye centres, nose tip, mouth corners) instead, so it needs a template: where
MTCNN's points land, on average, in dlib's chip. For UTKFace training images
where both detectors find one face:

  1. dlib: frontal detector + 5-point model -> chip details (150 px, padding 0.25);
  2. the image-to-chip mapping is measured, not re-derived: a coordinate image
     (x and y in two channels) is cut with the same details and a least-squares
     affine map is fitted to the sampled coordinates;
  3. OUR landmarks (`faceless detect --json`) are mapped into the chip.

The per-coordinate median is the template. Writes {"alignment": ...} to --out.

    python3 tools/descriptor_template.py --out training/report/descriptor_template.json
"""
import argparse
import csv
import json
import os
import random
import statistics
import sys

import cli_json

import dlib
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHIP, PADDING = 150, 0.25


def coordinate_image(h, w):
    """uint16-exact coordinates do not fit a uint8 image; x and y in [0, 255] do for
    images up to 256 px, which the 200x200 UTKFace chips are."""
    ys, xs = np.mgrid[0:h, 0:w]
    return np.stack([xs, ys, np.zeros_like(xs)], axis=-1).astype(np.uint8)


def chip_to_image(details, h, w):
    """Affine map (3x2, least squares) from chip pixel (u, v, 1) to image (x, y)."""
    chip = np.asarray(dlib.extract_image_chip(coordinate_image(h, w), details)).astype(np.float64)
    vs, us = np.mgrid[0:CHIP, 0:CHIP]
    x, y = chip[..., 0], chip[..., 1]
    # Keep chip pixels well inside the image, where the coordinate ramp is not clamped.
    inside = (x > 1) & (x < w - 2) & (y > 1) & (y < h - 2)
    if inside.sum() < 1000:
        return None
    a = np.stack([us[inside], vs[inside], np.ones(inside.sum())], axis=1)
    coef, *_ = np.linalg.lstsq(a, np.stack([x[inside], y[inside]], axis=1), rcond=None)
    return coef


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "datasets", "utkface", "images"))
    ap.add_argument("--split-csv", default=os.path.join(ROOT, "training", "report", "manifest.csv"))
    ap.add_argument("--samples", type=int, default=800)
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--faceless", default=os.path.join(ROOT, "target", "release", "faceless"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import face_recognition_models as frm

    with open(args.split_csv, newline="") as f:
        files = sorted(r["file"] for r in csv.DictReader(f) if r["split"] == "train")
    random.Random(args.seed).shuffle(files)
    files = files[: args.samples]

    ours = {}
    paths = [os.path.join(args.data_dir, f) for f in files]
    for rec in cli_json.records(args.faceless, "detect", paths, ["--min-face", "40"]):
        if len(rec["faces"]) == 1 and rec["faces"][0]["score"] >= 0.95:
            ours[os.path.basename(rec["image"])] = rec["faces"][0]["landmarks"]

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    points = [[[], []] for _ in range(5)]
    for name, landmarks in ours.items():
        img = np.asarray(Image.open(os.path.join(args.data_dir, name)).convert("RGB"))
        h, w = img.shape[:2]
        dets = detector(img, 1)
        if len(dets) != 1 or max(h, w) > 256:
            continue
        details = dlib.get_face_chip_details(predictor(img, dets[0]), CHIP, PADDING)
        coef = chip_to_image(details, h, w)
        if coef is None:
            continue
        # chip -> image is [u v 1] @ coef; invert its 2x2 part to map image -> chip.
        lin, off = coef[:2].T, coef[2]
        inv = np.linalg.inv(lin)
        for k, (x, y) in enumerate(landmarks):
            u, v = inv @ (np.array([x, y]) - off)
            points[k][0].append(u)
            points[k][1].append(v)
    used = len(points[0][0])
    if used < 100:
        sys.exit(f"descriptor_template: only {used} usable images")
    alignment = {
        "chip_size": [CHIP, CHIP],
        "landmarks": [[round(statistics.median(xs), 3), round(statistics.median(ys), 3)] for xs, ys in points],
        "landmark_order": ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"],
        "method": "median position of faceless-detected landmarks in dlib's 150 px face chip "
                  "(padding 0.25, 5-point model) on UTKFace training images (tools/descriptor_template.py)",
        "images_sampled": len(files),
        "images_used": used,
        "seed": args.seed,
        "std_px": [[round(statistics.pstdev(xs), 2), round(statistics.pstdev(ys), 2)] for xs, ys in points],
    }
    with open(args.out, "w") as f:
        json.dump({"alignment": alignment}, f, indent=2)
        f.write("\n")
    print(json.dumps(alignment, indent=2))


if __name__ == "__main__":
    main()
