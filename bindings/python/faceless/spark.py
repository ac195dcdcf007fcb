"""Faces of a whole photo collection on Apache Spark, as a Parquet table.

One row per face (image, face id, box, score, landmarks, age, age group,
gender and ethnicity, each with every class's probability), one row per
image without a face (`face_id` null, `face_count` 0) and one row per image
that could not be analysed (`error_status`, `error_code`, `error`), so no
image is lost silently.

Images come from Spark's `binaryFile` source (a folder, glob or list of
paths on any file system Spark reads: local, HDFS, S3, ...) or from any
table with a path column (and a bytes column, else the workers read the
paths). `mapInPandas` hands each Python worker batches of images; every
worker process builds one `faceless.Pipeline` on first use and keeps it for
the tasks that follow (PySpark reuses its workers), and analyses each batch
with `Pipeline.analyze_batch`, which runs `threads` images at once without
the GIL.

    python -m faceless.spark PHOTOS_DIR faces.parquet --master 'local[2]' --threads 1
    python -m faceless.spark PHOTOS_DIR --bench    # images/s: CLI, 1 and 2 workers

Needs pyspark, pandas and pyarrow (`pip install faceless[spark]`) and Java 17+.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Iterator

import faceless
from faceless import _native

# One row per face / face-less image / failed image. Probabilities by label.
SCHEMA = ", ".join(
    [
        "image string",
        "width int",
        "height int",
        "face_count int",
        "face_id int",
        "box array<float>",
        "score float",
        "landmarks array<array<float>>",
        "age float",
        "age_group string",
        "age_group_index int",
        "age_group_prob float",
        "age_group_probs map<string,float>",
        "gender string",
        "gender_prob float",
        "gender_probs map<string,float>",
        "ethnicity string",
        "ethnicity_prob float",
        "ethnicity_probs map<string,float>",
        "error_status int",
        "error_code string",
        "error string",
    ]
)
COLUMNS = [c.split(" ", 1)[0] for c in SCHEMA.split(", ")]
IMAGE_GLOB = "*.{jpg,jpeg,JPG,JPEG,png,PNG,bmp,BMP,webp,WEBP,gif,GIF}"

# the pipeline of this Python worker process, by its options
_pipelines: dict[tuple, faceless.Pipeline] = {}


def _pipeline(options: dict[str, Any]) -> faceless.Pipeline:
    key = tuple(sorted(options.items()))
    p = _pipelines.get(key)
    if p is None:
        p = _pipelines[key] = faceless.Pipeline(**options)
    return p


def rows_of(image: str, item: faceless.BatchItem) -> list[dict[str, Any]]:
    """The table's rows for one image's outcome."""
    if item.error is not None:
        e = item.error
        return [{"image": image, "error_status": e.status, "error_code": e.code, "error": e.message}]
    a = item.analysis
    assert a is not None
    base = {"image": image, "width": a.width, "height": a.height, "face_count": len(a.faces)}
    if not a.faces:
        return [base]
    rows = []
    for f in a.faces:
        rows.append(
            {
                **base,
                "face_id": f.id,
                "box": list(f.box),
                "score": f.score,
                "landmarks": [list(p) for p in f.landmarks],
                "age": f.age,
                "age_group": f.age_group.label,
                "age_group_index": f.age_group.index,
                "age_group_prob": f.age_group.prob,
                "age_group_probs": f.age_group.by_label(),
                "gender": f.gender.label,
                "gender_prob": f.gender.prob,
                "gender_probs": f.gender.by_label(),
                "ethnicity": f.ethnicity.label,
                "ethnicity_prob": f.ethnicity.prob,
                "ethnicity_probs": f.ethnicity.by_label(),
            }
        )
    return rows


def _local_path(path: str) -> str:
    return path[len("file:") :] if path.startswith("file:") else path


def _analyze_batches(options: dict[str, Any], path_col: str, content_col: str | None):
    """mapInPandas' function: pandas batches of images in, rows out."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        pipeline = _pipeline(options)
        for batch in batches:
            paths = [str(p) for p in batch[path_col]]
            if content_col is not None:
                inputs = [bytes(c) if c is not None else b"" for c in batch[content_col]]
            else:
                inputs = [_local_path(p) for p in paths]
            rows = []
            for path, item in zip(paths, pipeline.analyze_batch(inputs)):
                rows.extend(rows_of(path, item))
            # object columns: None stays a null (not NaN) whatever the type
            yield pd.DataFrame(
                {c: pd.Series([r.get(c) for r in rows], dtype=object) for c in COLUMNS}
            )

    return run


def read_images(spark: Any, *paths: str, recursive: bool = True, glob: str = IMAGE_GLOB) -> Any:
    """Spark's `binaryFile` source over folders, globs or files: columns
    path, modificationTime, length, content."""
    reader = spark.read.format("binaryFile").option("pathGlobFilter", glob)
    if recursive:
        reader = reader.option("recursiveFileLookup", "true")
    return reader.load(list(paths))


def faces(
    images: Any,
    *,
    path_col: str = "path",
    content_col: str | None = "content",
    partitions: int | None = None,
    **pipeline_options: Any,
) -> Any:
    """The faces table (SCHEMA) of a DataFrame of images: `path_col` names
    each image, `content_col` holds its bytes (None: the workers read the
    paths themselves, which must then be reachable from every worker).
    `pipeline_options` go to faceless.Pipeline (threads, max_concurrency,
    min_face_size, providers, ...), one pipeline per worker process."""
    if content_col is not None and content_col not in images.columns:
        content_col = None
    cols = [path_col] + ([content_col] if content_col else [])
    df = images.select(*cols)
    if partitions:
        df = df.repartition(partitions)
    return df.mapInPandas(_analyze_batches(pipeline_options, path_col, content_col), SCHEMA)


def session(master: str | None = None, app: str = "faceless", **conf: str) -> Any:
    """A SparkSession with the settings the job wants: small Arrow batches
    (images are large; a batch is what one worker holds at once) and Python
    worker reuse (so each worker builds its pipeline once)."""
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName(app)
    if master:
        b = b.master(master)
    settings = {
        "spark.sql.execution.arrow.maxRecordsPerBatch": "16",
        "spark.python.worker.reuse": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        **conf,
    }
    if master and master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # local workers run this interpreter (with faceless installed), not `python3`
        os.environ["PYSPARK_PYTHON"] = sys.executable
    for k, v in settings.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("FACELESS_SPARK_LOG_LEVEL", "ERROR"))
    return spark


def _pipeline_options(args: argparse.Namespace) -> dict[str, Any]:
    o: dict[str, Any] = {"threads": args.intra_threads, "max_concurrency": args.threads}
    if args.min_face is not None:
        o["min_face_size"] = args.min_face
    if args.providers:
        o["providers"] = args.providers
    if args.classifier:
        o["classifier"] = args.classifier
    return o


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m faceless.spark", description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="+", help="folders, globs or image files (any Spark file system)")
    ap.add_argument("--output", "-o", help="Parquet output (a directory, as Spark writes it)")
    ap.add_argument("--master", help="Spark master, e.g. local[2] (default: spark-submit's)")
    ap.add_argument("--threads", type=int, default=1,
                    help="images each worker analyses at once (Pipeline max_concurrency; default 1)")
    ap.add_argument("--intra-threads", type=int, default=1,
                    help="ONNX Runtime threads per model run (default 1)")
    ap.add_argument("--min-face", type=float)
    ap.add_argument("--providers", help="e.g. cuda,cpu")
    ap.add_argument("--classifier", choices=list(_native.CLASSIFIERS),
                    help="accurate (default) or fast: less time per face, somewhat less accurate")
    ap.add_argument("--partitions", type=int, help="repartition the images first")
    ap.add_argument("--bench", action="store_true",
                    help="measure images/s with 1 and 2 local workers against the CLI instead")
    ap.add_argument("--bench-copies", type=int, default=10,
                    help="(--bench) how many times each image is repeated (default 10)")
    ap.add_argument("--bench-repeats", type=int, default=3,
                    help="(--bench) runs of each measurement, the best kept (default 3)")
    ap.add_argument("--cli", help="(--bench) the faceless CLI (default: faceless on PATH)")
    args = ap.parse_args(argv)
    if args.bench:
        from . import spark_bench

        return spark_bench.run(args)
    if not args.output:
        ap.error("--output is required (or --bench)")
    spark = session(args.master)
    t0 = time.perf_counter()
    table = faces(read_images(spark, *args.input), partitions=args.partitions, **_pipeline_options(args))
    table.write.mode("overwrite").parquet(args.output)
    written = spark.read.parquet(args.output)
    n_images = written.select("image").distinct().count()
    n_faces = written.where("face_id is not null").count()
    n_errors = written.where("error is not null").count()
    print(
        f"{args.output}: {n_images} images, {n_faces} faces, {n_errors} unreadable "
        f"({time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
