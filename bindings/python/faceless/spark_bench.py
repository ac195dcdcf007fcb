"""`python -m faceless.spark --bench DIR...`: images per second of the Spark
job in local mode with 1 and 2 workers, against the CLI and against the
same pipeline called directly (no engine), on the same images.

The images are every image file under DIR, each repeated --bench-copies
times (copies in a temporary folder). Each worker runs one image at a
time on one ONNX Runtime thread (max_concurrency 1, threads 1), so N
workers use N cores; the CLI uses its defaults (every core). Spark rows are
spread round-robin over 4 partitions per worker so that heavy images do not
land on one worker. The engine's overhead per image is the Spark job's wall
time minus the direct pipeline's with the same parallelism, over the number
of images: reading the files into the JVM, Arrow transfers to and from the
Python workers, building rows, and task scheduling. Spark's start (the JVM's,
for the first session), the Python workers' start and their pipelines'
creation are reported apart (the first, "cold" run includes the latter two;
the figure is the best warm run). Each figure is the best of --bench-repeats
runs: on a shared machine the best run is the one least disturbed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import faceless

from . import spark as fs

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"}


def _images(dirs: list[str]) -> list[str]:
    found = []
    for d in dirs:
        if os.path.isfile(d):
            found.append(d)
            continue
        for base, _, files in os.walk(d):
            found += [os.path.join(base, f) for f in sorted(files) if os.path.splitext(f)[1].lower() in EXTENSIONS]
    return found


def _replicate(images: list[str], copies: int, into: str) -> list[str]:
    out = []
    for c in range(copies):
        for i, src in enumerate(images):
            dst = os.path.join(into, f"{c:03d}_{i:03d}_{os.path.basename(src)}")
            shutil.copyfile(src, dst)  # copies: the CLI analyses a hard-linked file once
            out.append(dst)
    return out


def _direct(paths: list[str], workers: int) -> float:
    """Seconds for the pipeline alone: `workers` threads, each one image at a
    time, bytes read in Python as the Spark job gets them."""
    with faceless.Pipeline(max_concurrency=workers, threads=1) as p:
        p.analyze(paths[0])  # sessions warm, as in a reused Spark worker

        def one(path: str) -> None:
            with open(path, "rb") as f:
                data = f.read()
            p.analyze(data)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(one, paths))
        return time.perf_counter() - t0


def _spark(folder: str, workers: int, repeats: int) -> tuple[float, float, float]:
    """(session start, cold job, best warm job) seconds with local[workers]."""
    t0 = time.perf_counter()
    spark = fs.session(f"local[{workers}]", app=f"faceless-bench-{workers}")
    start = time.perf_counter() - t0
    times = []
    try:
        for _ in range(1 + repeats):
            t0 = time.perf_counter()
            table = fs.faces(fs.read_images(spark, folder), partitions=4 * workers, threads=1, max_concurrency=1)
            table.write.format("noop").mode("overwrite").save()
            times.append(time.perf_counter() - t0)
    finally:
        spark.stop()
    return start, times[0], min(times[1:])


def run(args) -> int:
    images = _images(args.input)
    if not images:
        print("bench: no image under " + " ".join(args.input), file=sys.stderr)
        return 1
    cli = args.cli or shutil.which("faceless")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="faceless-bench-") as tmp:
        paths = _replicate(images, args.bench_copies, tmp)
        n = len(paths)
        print(f"{n} images ({len(images)} files x {args.bench_copies}); best of {args.bench_repeats} runs each\n")
        r = args.bench_repeats
        rows = []
        if cli:

            def cli_run(target: str) -> float:
                t0 = time.perf_counter()
                subprocess.run([cli, "analyze", "--json", target], check=True, stdout=subprocess.DEVNULL)
                return time.perf_counter() - t0

            t = min(cli_run(tmp) for _ in range(r))
            one = min(cli_run(paths[-1]) for _ in range(r))
            rows.append((f"CLI ({os.cpu_count()} threads, its default)", t,
                         f"its start and one image: {one:.2f} s"))
        else:
            print("bench: no faceless CLI (give --cli PATH); its line is left out", file=sys.stderr)
        direct = {}
        for w in (1, 2):
            direct[w] = min(_direct(paths, w) for _ in range(r))
            rows.append((f"pipeline directly, {w} thread(s)", direct[w], ""))
        for w in (1, 2):
            start, cold, warm = _spark(tmp, w, r)
            over = (warm - direct[w]) / n * 1000
            rows.append(
                (f"Spark local[{w}], warm", warm,
                 f"overhead {over:+.1f} ms/image; session start {start:.1f} s, first run {cold:.1f} s")
            )
        print("| run | seconds | images/s | notes |\n|---|---|---|---|")
        for name, t, note in rows:
            print(f"| {name} | {t:.2f} | {n / t:.2f} | {note} |")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0
