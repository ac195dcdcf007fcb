"""faceless.spark in Spark's local mode with two workers over
../shared/datasets/photos plus a truncated copy of one photo, checked row by
row against `faceless analyze --json` on the same files."""

import os
import re
import shutil
import subprocess

import pytest
from conftest import DATA, cli, shared

import faceless

if os.environ.get("FACELESS_REQUIRE_SPARK"):
    import pyspark  # noqa: F401  (fail, do not skip, where the stage needs it)
else:
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install faceless[spark])")
    if not shutil.which("java"):
        pytest.skip("java is not on PATH (PySpark needs Java 17+)", allow_module_level=True)

from faceless import spark as fs  # noqa: E402


@pytest.fixture(scope="module")
def session():
    s = fs.session("local[2]", app="faceless-test")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    photos = shared("photos")
    broken = tmp_path_factory.mktemp("broken")
    raw = open(photos / "frec_two_people.jpg", "rb").read()
    (broken / "frec_two_people_cut.jpg").write_bytes(raw[: len(raw) // 2])  # truncated
    shutil.copy(DATA / "chelsea.png", broken / "chelsea.png")  # no face
    return [str(photos), str(broken)]


def cli_run(paths):
    """(JSON object by path, error message by path) from the CLI."""
    import json

    proc = subprocess.run([cli(), "analyze", "--json", *paths], capture_output=True, text=True)
    objs = {o["image"]: o for o in map(json.loads, proc.stdout.splitlines())}
    errors = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"faceless: (/.*?): (.*)$", line)
        if m:
            errors[m.group(1)] = m.group(2)
    return objs, errors


with faceless.Pipeline(max_concurrency=1) as _p:
    AGE_GROUPS = _p.analyze(str(DATA / "astronaut.png")).faces[0].age_group.labels


def close(a, b, digits):
    return abs(a - b) <= 0.5 * 10.0**-digits + 1e-9


def check_against_cli(rows, objs, errors):
    by_image = {}
    for r in rows:
        by_image.setdefault(r["image"].removeprefix("file:"), []).append(r)
    # every image the CLI saw is in the table, and nothing else
    assert set(by_image) == set(objs) | set(errors)
    assert errors, "the truncated copy must be an error row"
    for path, message in errors.items():
        (row,) = by_image[path]
        assert row["error_code"] == "FACELESS_ERR_DECODE" and row["error_status"] == 4
        assert row["error"] == message and row["face_id"] is None
    n_faces = 0
    for path, obj in objs.items():
        got = sorted(by_image[path], key=lambda r: -1 if r["face_id"] is None else r["face_id"])
        assert all(r["error"] is None for r in got)
        assert all((r["width"], r["height"]) == (obj["width"], obj["height"]) for r in got)
        if not obj["faces"]:
            assert len(got) == 1 and got[0]["face_id"] is None and got[0]["face_count"] == 0
            continue
        assert [r["face_id"] for r in got] == [f["id"] for f in obj["faces"]]
        for r, f in zip(got, obj["faces"]):
            n_faces += 1
            assert r["face_count"] == len(obj["faces"])
            assert all(close(a, b, 2) for a, b in zip(r["box"], f["box"]))
            assert close(r["score"], f["score"], 6)
            assert all(close(a, b, 2) for p, q in zip(r["landmarks"], f["landmarks"]) for a, b in zip(p, q))
            assert close(r["age"], f["age"], 1)
            assert r["age_group"] == f["age_group"]["label"] and r["age_group_index"] == f["age_group"]["index"]
            assert close(r["age_group_prob"], f["age_group"]["prob"], 4)
            # the CLI lists age group probabilities in class order
            assert all(close(r["age_group_probs"][k], v, 4) for k, v in zip(AGE_GROUPS, f["age_group"]["probs"]))
            for head in ("gender", "ethnicity"):
                assert r[head] == f[head]["label"] and close(r[head + "_prob"], f[head]["prob"], 4)
                assert r[head + "_probs"].keys() == f[head]["probs"].keys()
                assert all(close(r[head + "_probs"][k], v, 4) for k, v in f[head]["probs"].items())
    return n_faces


def table_rows(df):
    rows = []
    for r in df.collect():
        d = r.asDict(recursive=True)
        for k in ("age_group_probs", "gender_probs", "ethnicity_probs"):
            if d[k] is not None:
                d[k] = dict(d[k])
        rows.append(d)
    return rows


def test_folder_to_parquet_matches_the_cli(session, inputs, tmp_path):
    out = str(tmp_path / "faces.parquet")
    table = fs.faces(fs.read_images(session, *inputs), threads=1, max_concurrency=1)
    table.write.parquet(out)
    rows = table_rows(session.read.parquet(out))
    objs, errors = cli_run(inputs)
    n_faces = check_against_cli(rows, objs, errors)
    assert n_faces >= 90  # 6 + 2 + 8 + 77 + 1 faces in the photos
    assert len(rows) == n_faces + 1 + len(errors)  # + chelsea's face-less row


def test_table_of_paths(session, inputs):
    """A table with paths and no bytes: the workers read the files."""
    photos = os.path.join(inputs[0], "mtcnn_ivan.jpg")
    cut = os.path.join(inputs[1], "frec_two_people_cut.jpg")
    df = session.createDataFrame([(photos,), (cut,)], "path string")
    rows = table_rows(fs.faces(df, content_col=None, threads=1))
    objs, errors = cli_run([photos, cut])
    check_against_cli(rows, objs, errors)


def test_rows_of_an_outcome():
    item = faceless.BatchItem(None, faceless.FacelessError(3, "x.jpg: gone"))
    (row,) = fs.rows_of("x.jpg", item)
    assert row == {"image": "x.jpg", "error_status": 3, "error_code": "FACELESS_ERR_IO", "error": "x.jpg: gone"}
    assert set(fs.COLUMNS) >= set(row)
