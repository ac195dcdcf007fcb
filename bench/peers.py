"""The peer in bench/run.sh: facenet-pytorch 2.6.0's MTCNN (the reference our
detector matches), timed on the same images, thread count and repetitions.

Prints one JSON object per image, like bench/detect.rs.
"""
import argparse
import json
import resource
import statistics
import time

import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    mtcnn = MTCNN(keep_all=True, min_face_size=20, thresholds=[0.6, 0.7, 0.7], factor=0.709,
                  post_process=False, device="cpu")
    for path in a.images:
        img = Image.open(path).convert("RGB")
        boxes, _ = mtcnn.detect(img)
        faces = 0 if boxes is None else len(boxes)
        times = []
        for _ in range(a.reps):
            t = time.perf_counter()
            with torch.no_grad():
                mtcnn.detect(img)
            times.append((time.perf_counter() - t) * 1e3)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(json.dumps({"image": path, "faces": faces, "detect_ms": round(statistics.median(times), 2),
                          "peak_rss_mib": round(rss, 1)}))


if __name__ == "__main__":
    main()
