"""Unit tests for the pure-stdlib data preparation (run in CI with system python3 -m pytest)."""
import collections
import csv
import os
import random
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from training import data  # noqa: E402

REAL = os.path.join(ROOT, "..", "shared", "datasets", "utkface", "images")


def test_data_module_is_stdlib_only():
    src = open(os.path.join(ROOT, "training", "data.py")).read()
    for mod in ("numpy", "torch", "PIL"):
        assert f"import {mod}" not in src and f"from {mod}" not in src


def test_canonical_name():
    r = data.parse_name("26_1_2_20170116174525125.jpg.chip.jpg")
    assert r.status == "ok"
    assert (r.record.age, r.record.gender, r.record.ethnicity) == (26, 1, 2)


def test_stray_space_kept():
    r = data.parse_name("24_0_1_20170116220224657 .jpg.chip.jpg")
    assert r.status == "repaired" and r.record is not None
    assert (r.record.age, r.record.gender, r.record.ethnicity) == (24, 0, 1)
    assert "whitespace" in r.note


def test_missing_dot_kept():
    r = data.parse_name("55_0_0_20170116232725357jpg.chip.jpg")
    assert r.status == "repaired"
    assert (r.record.age, r.record.gender, r.record.ethnicity) == (55, 0, 0)
    assert "dot" in r.note


@pytest.mark.parametrize("name", [
    "39_1_20170116174525125.jpg.chip.jpg",    # a field missing: never guessed
    "61_1_20170109142408075.jpg.chip.jpg",
    "_0_1_20170109142408075.jpg.chip.jpg",
    "30_2_1_20170109142408075.jpg.chip.jpg",  # gender out of range
    "30_1_7_20170109142408075.jpg.chip.jpg",  # race out of range
    "0_1_1_20170109142408075.jpg.chip.jpg",   # age out of range
    "30_1_1_20170109142408075.png",
    "x_1_1_2017.jpg.chip.jpg",
])
def test_dropped(name):
    r = data.parse_name(name)
    assert r.status == "dropped" and r.record is None and r.note


def synthetic_names(n=3000, seed=0):
    rng = random.Random(seed)
    names = set()
    while len(names) < n:
        names.add(f"{rng.choice([1, 2, 3] + list(range(1, 90)))}_{rng.randint(0, 1)}_{rng.randint(0, 4)}_"
                  f"2017{rng.randint(0, 10**13):013d}.jpg.chip.jpg")
    return sorted(names)


def test_quantile_edges_balanced_and_increasing():
    rng = random.Random(1)
    ages = [max(1, min(116, int(rng.gauss(35, 18)))) for _ in range(12000)]
    edges = data.quantile_edges(ages)
    assert len(edges) == 13
    assert all(a < b for a, b in zip(edges, edges[1:]))
    assert edges[0] == 1 and edges[-1] == 117
    counts = collections.Counter(data.age_group(a, edges) for a in ages)
    assert len(counts) == 12
    # integer ties make perfect balance impossible; within 40% of the ideal size
    assert max(counts.values()) < 1.4 * len(ages) / 12
    assert min(counts.values()) > 0.6 * len(ages) / 12


def test_quantile_edges_degenerate():
    edges = data.quantile_edges([1] * 50 + [2] * 50)
    assert len(edges) == 13 and all(a < b for a, b in zip(edges, edges[1:]))


def test_age_group_and_labels():
    edges = [1, 3, 10, 20, 25, 30, 35, 40, 50, 60, 70, 80, 117]
    assert data.age_group(1, edges) == 0
    assert data.age_group(2, edges) == 0
    assert data.age_group(3, edges) == 1
    assert data.age_group(116, edges) == 11
    assert data.age_group(500, edges) == 11
    assert data.group_labels(edges)[0] == "1-2"
    assert data.group_labels(edges)[-1] == "80-116"
    assert data.group_labels([24, 26, 27, 30]) == ["24-25", "26", "27-29"]


def test_split_deterministic_and_stratified():
    names = synthetic_names()
    a = data.prepare(names, seed=7)
    b = data.prepare(names, seed=7)
    c = data.prepare(names, seed=8)
    sa = {r.file: r.split for r in a.records}
    assert sa == {r.file: r.split for r in b.records}
    assert sa != {r.file: r.split for r in c.records}
    n = len(a.records)
    assert abs(a.counts["train"] / n - 0.70) < 0.02
    assert abs(a.counts["val"] / n - 0.15) < 0.02
    assert abs(a.counts["test"] / n - 0.15) < 0.02
    # every gender x ethnicity cell keeps its proportion in the test split
    cells = collections.Counter((r.gender, r.ethnicity) for r in a.records)
    test_cells = collections.Counter((r.gender, r.ethnicity) for r in a.records if r.split == "test")
    for k, v in cells.items():
        assert abs(test_cells[k] / v - 0.15) < 0.05
    # the model's age groups come from the training split's quantiles
    train_ages = [r.age for r in a.records if r.split == "train"]
    assert a.edges == data.quantile_edges(train_ages)


def test_ids_unique_random_and_manifest_roundtrip(tmp_path):
    prep = data.prepare(synthetic_names(500), seed=3)
    ids = [r.image_id for r in prep.records]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 for i in ids)
    # ids do not follow the file order
    by_file = [r.image_id for r in sorted(prep.records, key=lambda r: r.file)]
    assert by_file != sorted(by_file)
    p = tmp_path / "m.csv"
    data.write_manifest(prep.records, str(p))
    back = data.read_manifest(str(p))
    assert {(r.file, r.age, r.gender, r.ethnicity, r.split, r.age_group, r.image_id) for r in back} == \
        {(r.file, r.age, r.gender, r.ethnicity, r.split, r.age_group, r.image_id) for r in prep.records}
    with open(p) as f:
        assert next(csv.reader(f)) == data.MANIFEST_FIELDS


@pytest.mark.skipif(not os.path.isdir(REAL), reason="UTKFace not found at ../shared/datasets/utkface/images")
def test_real_dataset_five_damaged_names():
    names = data.list_images(REAL)
    records, damaged = data.scan(names)
    assert len(damaged) == 5
    kept = sorted(d.file for d in damaged if d.record is not None)
    dropped = sorted(d.file for d in damaged if d.record is None)
    assert len(kept) == 2 and len(dropped) == 3
    assert len(records) == len(names) - 3
