"""UTKFace data preparation in pure Python (standard library only).

Nothing here imports numpy or torch, so `python3 -m pytest training/tests` runs in CI
with a bare system Python.

File names follow `[age]_[gender]_[race]_[date&time].jpg.chip.jpg`.  Parsing is lenient
(stray whitespace, a missing dot before the extension) but NEVER guesses a missing
field: a name with fewer than four fields is dropped and reported.
"""
from __future__ import annotations

import csv
import os
import random
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .schema import ETHNICITY_LABELS, GENDER_LABELS, N_AGE_GROUPS  # noqa: F401 (part of this module's API)
AGE_MIN, AGE_MAX = 1, 116

# canonical extension; the dot before it may be missing in damaged names
_EXT_RE = re.compile(r"\.?\s*jpg\.chip\.jpg\s*$", re.IGNORECASE)
_CANONICAL_RE = re.compile(r"^(\d+)_([01])_([0-4])_(\d+)\.jpg\.chip\.jpg$")


@dataclass
class Record:
    file: str
    age: int
    gender: int
    ethnicity: int
    image_id: str = ""
    split: str = ""
    age_group: int = -1


@dataclass
class ParseResult:
    file: str
    record: Optional[Record]
    status: str  # "ok" | "repaired" | "dropped"
    note: str = ""


def parse_name(name: str) -> ParseResult:
    """Parse one file name leniently.

    Returns status "ok" for canonical names, "repaired" for damaged names that still
    carry all labels (kept), and "dropped" (record None) for anything whose labels are
    incomplete or invalid.  A missing field is never guessed.
    """
    if _CANONICAL_RE.match(name):
        a, g, r, _ = name.split(".")[0].split("_")
        if AGE_MIN <= int(a) <= AGE_MAX:
            return ParseResult(name, Record(name, int(a), int(g), int(r)), "ok")
        return ParseResult(name, None, "dropped", f"age {int(a)} outside {AGE_MIN}..{AGE_MAX}")

    problems: List[str] = []
    m = _EXT_RE.search(name)
    if not m:
        return ParseResult(name, None, "dropped", "no '.jpg.chip.jpg' extension")
    ext = m.group(0)
    if not ext.startswith("."):
        problems.append("missing dot before 'jpg.chip.jpg'")
    stem = name[: m.start()]
    if stem != stem.strip() or any(c.isspace() for c in stem):
        problems.append("stray whitespace")
    parts = [p.strip() for p in stem.split("_")]
    if len(parts) != 4:
        return ParseResult(
            name, None, "dropped",
            f"{len(parts)} fields instead of 4 (age_gender_race_datetime); "
            "a missing label is never guessed",
        )
    age_s, gender_s, race_s, stamp = parts
    for label, s in (("age", age_s), ("gender", gender_s), ("race", race_s), ("date&time", stamp)):
        if not s.isdigit():
            return ParseResult(name, None, "dropped", f"{label} field {s!r} is not a number")
    age, gender, race = int(age_s), int(gender_s), int(race_s)
    if not (AGE_MIN <= age <= AGE_MAX):
        return ParseResult(name, None, "dropped", f"age {age} outside {AGE_MIN}..{AGE_MAX}")
    if gender not in (0, 1):
        return ParseResult(name, None, "dropped", f"gender {gender} not 0/1")
    if race not in range(5):
        return ParseResult(name, None, "dropped", f"race {race} not 0..4")
    if not problems:
        problems.append("non-canonical name")
    return ParseResult(
        name, Record(name, age, gender, race), "repaired",
        "; ".join(problems) + f" -> kept with age={age} gender={gender} race={race}",
    )


def scan(names: Iterable[str]) -> Tuple[List[Record], List[ParseResult]]:
    """Parse many names (sorted for determinism). Returns (kept records, damaged results)."""
    records: List[Record] = []
    damaged: List[ParseResult] = []
    for name in sorted(names):
        res = parse_name(name)
        if res.status != "ok":
            damaged.append(res)
        if res.record is not None:
            records.append(res.record)
    return records, damaged


def list_images(data_dir: str) -> List[str]:
    return sorted(
        n for n in os.listdir(data_dir)
        if n.lower().endswith("jpg") and os.path.isfile(os.path.join(data_dir, n))
    )


# ---------------------------------------------------------------- age groups

def quantile_edges(ages: Sequence[int], n_groups: int = N_AGE_GROUPS,
                   lo: int = AGE_MIN, hi: int = AGE_MAX + 1) -> List[int]:
    """Integer age-group edges from quantiles, as balanced as integer ages allow.

    Returns n_groups+1 strictly increasing ints: edges[k] is the lower bound (inclusive)
    of group k and edges[-1] is one past the top age. Each inner edge is the integer cut
    whose cumulative count is closest to k*n/n_groups.
    """
    if not ages:
        raise ValueError("no ages")
    counts: Dict[int, int] = {}
    for a in ages:
        counts[a] = counts.get(a, 0) + 1
    lo = min(lo, min(ages))
    hi = max(hi, max(ages) + 1)
    # below[a] = number of ages < a, for a in lo..hi
    below = {}
    c = 0
    for a in range(lo, hi + 1):
        below[a] = c
        c += counts.get(a, 0)
    n = len(ages)
    edges = [lo]
    for k in range(1, n_groups):
        target = k * n / n_groups
        # smallest cut with below >= target, then compare with the cut before
        best = None
        for a in range(edges[-1] + 1, hi):
            if below[a] >= target:
                best = a
                if a - 1 > edges[-1] and abs(below[a - 1] - target) <= abs(below[a] - target):
                    best = a - 1
                break
        if best is None:
            best = edges[-1] + 1
        # leave room for the remaining groups
        best = min(best, hi - (n_groups - k))
        best = max(best, edges[-1] + 1)
        edges.append(best)
    edges.append(hi)
    return edges


def age_group(age: int, edges: Sequence[int]) -> int:
    """Index of the group containing age (clamped to the first/last group)."""
    g = 0
    for k in range(1, len(edges) - 1):
        if age >= edges[k]:
            g = k
        else:
            break
    return g


def group_labels(edges: Sequence[int]) -> List[str]:
    """'29-34' for a range of ages, '26' for a group of one age (UTKFace has many 26-year-olds)."""
    out = []
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1] - 1
        out.append(str(lo) if lo == hi else f"{lo}-{hi}")
    return out


# ---------------------------------------------------------------- split

def stratified_split(records: List[Record], seed: int = 1337,
                     fractions: Tuple[float, float, float] = (0.70, 0.15, 0.15),
                     strata_edges: Optional[Sequence[int]] = None) -> Dict[str, int]:
    """Assign record.split in place, stratified by age group x gender x ethnicity.

    The age groups used for the strata come from the quantiles of ALL usable ages
    (the training split does not exist yet); the model's own age groups are then
    recomputed from the training split only (see `assign_age_groups`).
    """
    if strata_edges is None:
        strata_edges = quantile_edges([r.age for r in records])
    strata: Dict[Tuple[int, int, int], List[Record]] = {}
    for r in sorted(records, key=lambda r: r.file):
        key = (age_group(r.age, strata_edges), r.gender, r.ethnicity)
        strata.setdefault(key, []).append(r)
    rng = random.Random(seed)
    counts = {"train": 0, "val": 0, "test": 0}
    _, f_val, f_test = fractions
    for key in sorted(strata):
        items = strata[key]
        rng.shuffle(items)
        n = len(items)
        n_test = int(round(n * f_test))
        n_val = int(round(n * f_val))
        if n_test + n_val >= n:  # tiny stratum: keep at least one for training
            n_test = min(n_test, max(0, n - 1))
            n_val = min(n_val, max(0, n - 1 - n_test))
        for i, r in enumerate(items):
            r.split = "test" if i < n_test else ("val" if i < n_test + n_val else "train")
            counts[r.split] += 1
    return counts


def assign_age_groups(records: List[Record], n_groups: int = N_AGE_GROUPS) -> List[int]:
    """Edges from the TRAINING split's quantiles; sets record.age_group for all records."""
    train_ages = [r.age for r in records if r.split == "train"]
    edges = quantile_edges(train_ages, n_groups)
    for r in records:
        r.age_group = age_group(r.age, edges)
    return edges


def assign_ids(records: List[Record], seed: int = 1337) -> None:
    """Random (seeded, hence reproducible) 16-hex-digit image ids, unique."""
    rng = random.Random(seed ^ 0x5EED)
    seen = set()
    for r in sorted(records, key=lambda r: r.file):
        while True:
            iid = "%016x" % rng.getrandbits(64)
            if iid not in seen:
                seen.add(iid)
                r.image_id = iid
                break


MANIFEST_FIELDS = ["image_id", "file", "age", "gender", "ethnicity", "age_group", "split"]


def write_manifest(records: List[Record], path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_FIELDS)
        for r in sorted(records, key=lambda r: r.image_id):
            w.writerow([r.image_id, r.file, r.age, r.gender, r.ethnicity, r.age_group, r.split])


def read_manifest(path: str) -> List[Record]:
    out = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out.append(Record(row["file"], int(row["age"]), int(row["gender"]),
                              int(row["ethnicity"]), row["image_id"], row["split"],
                              int(row["age_group"])))
    return out


@dataclass
class Prepared:
    records: List[Record]
    damaged: List[ParseResult]
    edges: List[int]
    counts: Dict[str, int]
    n_files: int = 0
    labels: List[str] = field(default_factory=list)


def prepare(names: Iterable[str], seed: int = 1337,
            fractions: Tuple[float, float, float] = (0.70, 0.15, 0.15)) -> Prepared:
    names = list(names)
    records, damaged = scan(names)
    counts = stratified_split(records, seed, fractions)
    edges = assign_age_groups(records)
    assign_ids(records, seed)
    return Prepared(records, damaged, edges, counts, len(names), group_labels(edges))


def damaged_table(damaged: List[ParseResult]) -> str:
    lines = ["| file name (repr) | action | reason |", "|---|---|---|"]
    for d in damaged:
        action = "kept" if d.record is not None else "dropped"
        lines.append(f"| `{d.file!r}` | {action} | {d.note} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    import json
    p = argparse.ArgumentParser(description="Prepare UTKFace manifest and split (stdlib only)")
    p.add_argument("--data-dir", default=os.path.join("..", "shared", "datasets", "utkface", "images"))
    p.add_argument("--out", default=os.path.join("training", "out", "manifest.csv"))
    p.add_argument("--seed", type=int, default=1337)
    a = p.parse_args(argv)
    prep = prepare(list_images(a.data_dir), a.seed)
    write_manifest(prep.records, a.out)
    print(json.dumps({"files": prep.n_files, "kept": len(prep.records), "split": prep.counts,
                      "edges": prep.edges, "labels": prep.labels}, indent=1))
    print(damaged_table(prep.damaged))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
