#!/usr/bin/env python3
"""Write golden MTCNN detections from facenet-pytorch 2.6.0 (the reference) to tests/golden/.

Runs ``facenet_pytorch.MTCNN(keep_all=True, min_face_size=20,
thresholds=[0.6, 0.7, 0.7], factor=0.709, post_process=False, device='cpu')``
``.detect(img, landmarks=True)`` on every ``../shared/datasets/photos/*.jpg``
(if present) and on ``tests/data/astronaut.png``, ``tests/data/chelsea.png``
and ``tests/data/astronaut.bmp`` (the lossless 256x256 variant), each opened
with PIL and converted to RGB, and writes ``tests/golden/<stem>.json``.

Also writes ``tests/golden/stages_astronaut.json``: the boxes after each stage
of ``detect_face`` for astronaut.png, computed by a step-by-step copy of
``facenet_pytorch/models/utils/detect_face.detect_face`` that calls its helper
functions (checked to give the same final result as ``MTCNN.detect``).

Needs torch 2.2.2, facenet-pytorch 2.6.0, numpy, Pillow (see tests/golden/README.md).
Usage: python tools/make_golden.py
"""

import csv
import glob
import json
import os
import platform
import sys

import numpy as np
import torch
from PIL import Image

import facenet_pytorch
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils import detect_face as dfm
from torchvision.ops.boxes import batched_nms

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PHOTOS = os.path.join(ROOT, "..", "shared", "datasets", "photos")
OUT = os.path.join(ROOT, "tests", "golden")
COMMITTED = ["tests/data/astronaut.png", "tests/data/chelsea.png", "tests/data/astronaut.bmp"]

PARAMS = dict(keep_all=True, min_face_size=20, thresholds=[0.6, 0.7, 0.7], factor=0.709,
              post_process=False, device="cpu")


def generator():
    import PIL
    import torchvision

    return {
        "facenet_pytorch": getattr(facenet_pytorch, "__version__", None) or _dist_version("facenet-pytorch"),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "python": platform.python_version(),
    }


def _dist_version(name):
    from importlib.metadata import version

    return version(name)


def detect(mtcnn, rel):
    img = Image.open(os.path.join(ROOT, rel)).convert("RGB")
    boxes, probs, points = mtcnn.detect(img, landmarks=True)
    faces = []
    if boxes is not None:
        for b, p, l in zip(boxes, probs, points):
            faces.append({
                "box": [float(v) for v in b],
                "score": float(p),
                "landmarks": [[float(x), float(y)] for x, y in l],
            })
    return img, faces


def stages(mtcnn, img):
    """Step-by-step copy of detect_face() for one PIL image, recording each stage."""
    pnet, rnet, onet = mtcnn.pnet, mtcnn.rnet, mtcnn.onet
    minsize, threshold, factor = mtcnn.min_face_size, mtcnn.thresholds, mtcnn.factor
    imgs = torch.as_tensor(np.stack([np.uint8(img)]).copy())
    imgs = imgs.permute(0, 3, 1, 2).type(torch.float32)
    h, w = imgs.shape[2:4]
    m = 12.0 / minsize
    minl = min(h, w) * m
    scale_i, scales = m, []
    while minl >= 12:
        scales.append(scale_i)
        scale_i = scale_i * factor
        minl = minl * factor
    rec = {"scales": [], "width": int(w), "height": int(h)}
    boxes, image_inds, scale_picks, offset = [], [], [], 0
    for scale in scales:
        size = (int(h * scale + 1), int(w * scale + 1))
        im_data = dfm.imresample(imgs, size)
        im_data = (im_data - 127.5) * 0.0078125
        reg, probs = pnet(im_data)
        boxes_scale, image_inds_scale = dfm.generateBoundingBox(reg, probs[:, 1], scale, threshold[0])
        boxes.append(boxes_scale)
        image_inds.append(image_inds_scale)
        pick = batched_nms(boxes_scale[:, :4], boxes_scale[:, 4], image_inds_scale, 0.5)
        scale_picks.append(pick + offset)
        offset += boxes_scale.shape[0]
        rec["scales"].append({"scale": scale, "resized_hw": list(size), "pnet_out_hw": list(probs.shape[2:]),
                              "candidates": int(boxes_scale.shape[0]), "after_nms_0.5": int(pick.numel())})
    boxes = torch.cat(boxes, dim=0)
    image_inds = torch.cat(image_inds, dim=0)
    boxes, image_inds = boxes[torch.cat(scale_picks)], image_inds[torch.cat(scale_picks)]
    pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
    boxes, image_inds = boxes[pick], image_inds[pick]
    regw = boxes[:, 2] - boxes[:, 0]
    regh = boxes[:, 3] - boxes[:, 1]
    qq1 = boxes[:, 0] + boxes[:, 5] * regw
    qq2 = boxes[:, 1] + boxes[:, 6] * regh
    qq3 = boxes[:, 2] + boxes[:, 7] * regw
    qq4 = boxes[:, 3] + boxes[:, 8] * regh
    boxes = torch.stack([qq1, qq2, qq3, qq4, boxes[:, 4]]).permute(1, 0)
    boxes = dfm.rerec(boxes)
    rec["pnet"] = _rows(boxes)
    y, ey, x, ex = dfm.pad(boxes, w, h)
    rec["pnet_pad_y_ey_x_ex"] = [[int(a), int(b), int(c), int(d)] for a, b, c, d in zip(y, ey, x, ex)]

    # R-Net
    im_data = []
    for k in range(len(y)):
        if ey[k] > (y[k] - 1) and ex[k] > (x[k] - 1):
            img_k = imgs[image_inds[k], :, (y[k] - 1):ey[k], (x[k] - 1):ex[k]].unsqueeze(0)
            im_data.append(dfm.imresample(img_k, (24, 24)))
    im_data = (torch.cat(im_data, dim=0) - 127.5) * 0.0078125
    out = dfm.fixed_batch_process(im_data, rnet)
    out0, out1 = out[0].permute(1, 0), out[1].permute(1, 0)
    score = out1[1, :]
    rec["rnet_scores_all"] = [round(float(s), 6) for s in score]
    ipass = score > threshold[1]
    boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
    image_inds = image_inds[ipass]
    mv = out0[:, ipass].permute(1, 0)
    pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
    boxes, image_inds, mv = boxes[pick], image_inds[pick], mv[pick]
    rec["rnet_before_bbreg"] = _rows(boxes)
    rec["rnet_reg"] = _rows(mv)
    boxes = dfm.bbreg(boxes, mv)
    boxes = dfm.rerec(boxes)
    rec["rnet"] = _rows(boxes)

    # O-Net
    y, ey, x, ex = dfm.pad(boxes, w, h)
    rec["rnet_pad_y_ey_x_ex"] = [[int(a), int(b), int(c), int(d)] for a, b, c, d in zip(y, ey, x, ex)]
    im_data = []
    for k in range(len(y)):
        if ey[k] > (y[k] - 1) and ex[k] > (x[k] - 1):
            img_k = imgs[image_inds[k], :, (y[k] - 1):ey[k], (x[k] - 1):ex[k]].unsqueeze(0)
            im_data.append(dfm.imresample(img_k, (48, 48)))
    im_data = (torch.cat(im_data, dim=0) - 127.5) * 0.0078125
    out = dfm.fixed_batch_process(im_data, onet)
    out0, out1, out2 = out[0].permute(1, 0), out[1].permute(1, 0), out[2].permute(1, 0)
    score = out2[1, :]
    rec["onet_scores_all"] = [round(float(s), 6) for s in score]
    points = out1
    ipass = score > threshold[2]
    points = points[:, ipass]
    boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
    image_inds = image_inds[ipass]
    mv = out0[:, ipass].permute(1, 0)
    rec["onet_before_bbreg"] = _rows(boxes)
    rec["onet_reg"] = _rows(mv)
    rec["onet_landmarks_raw"] = _rows(points.permute(1, 0))
    w_i = boxes[:, 2] - boxes[:, 0] + 1
    h_i = boxes[:, 3] - boxes[:, 1] + 1
    points_x = w_i.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
    points_y = h_i.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
    points = torch.stack((points_x, points_y)).permute(2, 1, 0)
    boxes = dfm.bbreg(boxes, mv)
    pick = dfm.batched_nms_numpy(boxes[:, :4], boxes[:, 4], image_inds, 0.7, "Min")
    boxes, points = boxes[pick], points[pick]
    rec["onet"] = _rows(boxes)
    rec["onet_landmarks"] = [_rows(p) for p in points]
    return rec, boxes.numpy(), points.numpy()


def _rows(t):
    return [[round(float(v), 4) for v in row] for row in t]


def main():
    torch.set_grad_enabled(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    mtcnn = MTCNN(**PARAMS)
    gen = generator()
    os.makedirs(OUT, exist_ok=True)
    counts = {}
    tsv = os.path.join(PHOTOS, "face_counts.tsv")
    if os.path.exists(tsv):
        with open(tsv) as fh:
            for row in csv.reader((l for l in fh if not l.startswith("#")), delimiter="\t"):
                if row:
                    counts[row[0]] = row[1]
    photos = sorted(glob.glob(os.path.join(PHOTOS, "*.jpg")))
    if not photos:
        print("warning: no photos under %s; only committed images" % PHOTOS, file=sys.stderr)
    rels = [os.path.relpath(p, ROOT) for p in photos] + COMMITTED
    for rel in rels:
        img, faces = detect(mtcnn, rel)
        stem = os.path.splitext(os.path.basename(rel))[0]
        if rel == "tests/data/astronaut.bmp":
            stem = "astronaut_256"
        doc = {"image": rel, "width": img.size[0], "height": img.size[1], "faces": faces,
               "params": {k: v for k, v in PARAMS.items() if k != "device"},
               "order": "as MTCNN.detect returns them (select_largest=True: by box area, descending)",
               "generator": gen}
        with open(os.path.join(OUT, stem + ".json"), "w") as fh:
            json.dump(doc, fh, indent=1)
            fh.write("\n")
        ref = counts.get(os.path.basename(rel), "-")
        print("%-40s %4dx%-4d faces %3d  (face_counts.tsv: %s)" % (rel, img.size[0], img.size[1], len(faces), ref))

    img = Image.open(os.path.join(ROOT, "tests/data/astronaut.png")).convert("RGB")
    rec, boxes, points = stages(mtcnn, img)
    # the step-by-step copy must agree with detect_face itself
    b2, p2 = dfm.detect_face(img, mtcnn.min_face_size, mtcnn.pnet, mtcnn.rnet, mtcnn.onet,
                             mtcnn.thresholds, mtcnn.factor, "cpu")
    assert np.array_equal(boxes, b2[0]) and np.array_equal(points, p2[0]), "stage copy differs from detect_face"
    doc = {"image": "tests/data/astronaut.png",
           "note": "intermediate boxes of facenet-pytorch 2.6.0 detect_face (rounded to 4 decimals). "
                   "Rows are [x1, y1, x2, y2, score] unless named otherwise; 'pnet' is after per-scale NMS 0.5, "
                   "cross-scale NMS 0.7, regression and rerec; 'rnet' after threshold, NMS 0.7, bbreg, rerec; "
                   "'onet' after threshold, bbreg and NMS 0.7 'Min' (before MTCNN.detect's area sort). "
                   "*_pad_y_ey_x_ex are pad()'s 1-based inclusive crop bounds: rows y-1..ey-1, cols x-1..ex-1. "
                   "onet_landmarks are [[x, y] x 5] per face in image coordinates.",
           "params": {k: v for k, v in PARAMS.items() if k != "device"},
           "generator": gen}
    doc.update(rec)
    with open(os.path.join(OUT, "stages_astronaut.json"), "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    print("stages_astronaut.json: scales %d, pnet %d, rnet %d, onet %d boxes"
          % (len(rec["scales"]), len(rec["pnet"]), len(rec["rnet"]), len(rec["onet"])))
    print("generator:", json.dumps(gen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
