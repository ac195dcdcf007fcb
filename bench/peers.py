"""The peer in bench/run.sh: facenet-pytorch 2.6.0's MTCNN (the reference our
detector matches), timed on the same images, thread count and repetitions.

One pass detects every image in turn (torch spreads each over --threads);
prints one JSON object like bench/throughput.rs: median pass time per image,
CPU time per image, faces per pass, peak RSS.
"""
import argparse
import json
import resource
import statistics
import time

import torch
from facenet_pytorch import MTCNN
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    mtcnn = MTCNN(keep_all=True, min_face_size=20, thresholds=[0.6, 0.7, 0.7], factor=0.709,
                  post_process=False, device="cpu")
    images = [Image.open(p).convert("RGB") for p in a.images]

    def one_pass():
        faces = 0
        with torch.no_grad():
            for img in images:
                boxes, _ = mtcnn.detect(img)
                faces += 0 if boxes is None else len(boxes)
        return faces

    faces = one_pass()  # warm-up
    times = []
    cpu0 = time.process_time()
    for _ in range(a.reps):
        t = time.perf_counter()
        one_pass()
        times.append((time.perf_counter() - t) * 1e3)
    cpu_ms = (time.process_time() - cpu0) * 1e3 / a.reps
    n = len(images)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"mode": "facenet-pytorch", "threads": a.threads, "images": n, "faces": faces,
                      "pass_ms": round(statistics.median(times), 2),
                      "ms_per_image": round(statistics.median(times) / n, 2),
                      "cpu_ms_per_image": round(cpu_ms / n, 2), "peak_rss_mib": round(rss, 1)}))


if __name__ == "__main__":
    main()
