#!/usr/bin/env python3
"""The external check: the release CLI on real photos from another dataset.

Runs `faceless analyze --json` over `../shared/datasets/fairface_check` (540
FairFace crops, CC BY 4.0, 30 per age bin and gender; see its README) exactly
as a user would: detect, align, classify; where a crop shows several faces the
largest one is scored, and a crop with no face found counts as wrong for
every measure. Prints, per FairFace age bin and per gender:

  * gender accuracy;
  * the share of predicted ages (years) inside the labelled bin, read as
    [lo, hi + 1) years since FairFace's labels are whole years ("20-29" is
    20.0 <= age < 30.0; "70+" is age >= 70);
  * the female -> male and male -> female error rates;
  * gender answered only where its probability reaches a threshold: the share
    of photos answered and the accuracy of those answers (how a caller who
    abstains below the threshold fares), for children (0-19) and adults.

`--model-card FILE` rewrites the block between the two markers below in FILE
with the table, so MODEL_CARD.md carries what was measured, never typed.
Standard library only.

    python3 tools/evaluate_external.py [--cli target/release/faceless]
        [--models DIR] [--json OUT.json] [--model-card MODEL_CARD.md]
"""
import argparse
import json
import os
import statistics
import sys

import cli_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "datasets", "fairface_check")
BINS = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"]
BEGIN = "<!-- external-check:begin (tools/evaluate_external.py) -->"
END = "<!-- external-check:end -->"


def bin_range(label):
    if label.endswith("+"):
        return float(label[:-1]), float("inf")
    lo, hi = label.split("-")
    return float(lo), float(hi) + 1.0


def largest_face(faces):
    def area(f):
        x0, y0, x1, y1 = f["box"]
        return (x1 - x0) * (y1 - y0)
    return max(faces, key=area) if faces else None


def run_cli(cli, models, paths, ort):
    env = dict(os.environ)
    if ort:
        env["ORT_DYLIB_PATH"] = ort
    options = ["--models", models] if models else []
    return {os.path.basename(rec["image"]): largest_face(rec.get("faces") or [])
            for rec in cli_json.records(cli, "analyze", paths, options, batch=100, env=env)}


def score(labels, preds):
    """Counts per (bin, gender) cell, then the table rows."""
    cells = {}
    for item in labels:
        face = preds.get(item["filename"])
        cell = cells.setdefault((item["age"], item["gender"]), {"n": 0, "found": 0, "gender": 0, "age_in": 0, "ages": []})
        cell["n"] += 1
        if face is None:
            continue
        cell["found"] += 1
        cell["gender"] += face["gender"]["label"] == item["gender"].lower()
        lo, hi = bin_range(item["age"])
        cell["age_in"] += lo <= face["age"] < hi
        cell["ages"].append(face["age"])
    return cells


def summarise(cells, keys):
    tot = {"n": 0, "found": 0, "gender": 0, "age_in": 0, "ages": []}
    for k in keys:
        for f in tot:
            tot[f] += cells.get(k, {}).get(f, 0 if f != "ages" else [])
    n = max(tot["n"], 1)
    return {"n": tot["n"], "faces_found": tot["found"],
            "gender_acc": tot["gender"] / n, "age_in_bin": tot["age_in"] / n,
            "median_age": statistics.median(tot["ages"]) if tot["ages"] else None}


def report(cells):
    genders = ["Female", "Male"]
    rows = {b: summarise(cells, [(b, g) for g in genders]) for b in BINS}
    per_gender = {g: summarise(cells, [(b, g) for b in BINS]) for g in genders}
    overall = summarise(cells, [(b, g) for b in BINS for g in genders])
    f2m = 1.0 - per_gender["Female"]["gender_acc"]
    m2f = 1.0 - per_gender["Male"]["gender_acc"]
    return {"overall": overall, "per_bin": rows, "per_gender": per_gender,
            "female_called_male": f2m, "male_called_female": m2f}


THRESHOLDS = [0.5, 0.7, 0.8, 0.9, 0.95]
GROUPS = {"all": BINS, "0-19": BINS[:3], "20+": BINS[3:]}


def by_confidence(labels, preds, thresholds=THRESHOLDS):
    """Per group and threshold: photos whose gender answer has at least that
    probability (a face not found is never answered), and how many are right."""
    out = {}
    for group, bins in GROUPS.items():
        items = [x for x in labels if x["age"] in bins]
        rows = []
        for t in thresholds:
            kept = [x for x in items if preds.get(x["filename"]) and preds[x["filename"]]["gender"]["prob"] >= t]
            right = sum(preds[x["filename"]]["gender"]["label"] == x["gender"].lower() for x in kept)
            rows.append({"threshold": t, "answered": len(kept) / max(len(items), 1),
                         "accuracy": right / len(kept) if kept else None})
        out[group] = {"n": len(items), "rows": rows}
    return out


def markdown(r):
    pct = lambda v: f"{100 * v:.1f} %"
    med = lambda s: "-" if s["median_age"] is None else f"{s['median_age']:.1f}"  # noqa: E731
    lines = ["| FairFace age bin | photos | faces found | gender accuracy | age inside the bin | median predicted age |",
             "|---|---|---|---|---|---|"]
    for b, s in r["per_bin"].items():
        lines.append(f"| {b} | {s['n']} | {s['faces_found']} | {pct(s['gender_acc'])} | {pct(s['age_in_bin'])} | {med(s)} |")
    for g, s in r["per_gender"].items():
        lines.append(f"| all, {g.lower()} | {s['n']} | {s['faces_found']} | {pct(s['gender_acc'])} | {pct(s['age_in_bin'])} | {med(s)} |")
    o = r["overall"]
    lines.append(f"| **all** | {o['n']} | {o['faces_found']} | **{pct(o['gender_acc'])}** | **{pct(o['age_in_bin'])}** | {med(o)} |")
    lines.append("")
    lines.append(f"Women called men: {pct(r['female_called_male'])}; men called women: "
                 f"{pct(r['male_called_female'])} (a face not found counts as an error in both).")
    conf = r.get("gender_by_confidence")
    if conf:
        lines += ["", "Gender answered only at or above a probability (a caller abstaining below it): share of "
                  "photos answered, and accuracy of those answers.", "",
                  "| gender probability at least | " + " | ".join(f"{g} ({c['n']} photos)" for g, c in conf.items()) + " |",
                  "|---|" + "---|" * len(conf)]
        for i, t in enumerate(row["threshold"] for row in next(iter(conf.values()))["rows"]):
            cells = []
            for c in conf.values():
                row = c["rows"][i]
                acc = "-" if row["accuracy"] is None else pct(row["accuracy"])
                cells.append(f"{pct(row['answered'])} answered, {acc} right")
            lines.append(f"| {t:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_block(path, begin, end, body):
    """Replaces what stands between the `begin` and `end` markers of a file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if begin not in text or end not in text:
        sys.exit(f"{path} has no {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{begin}\n{body}\n{end}{tail}")


def write_card(path, table):
    write_block(path, BEGIN, END, table)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "target", "release", "faceless"))
    ap.add_argument("--models", help="model directory for `faceless --models` (default: the embedded models)")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--ort", default=os.path.join(ROOT, ".runtime", "libonnxruntime.so.1.31.1"))
    ap.add_argument("--json", help="also write the numbers and every prediction here")
    ap.add_argument("--model-card", help="rewrite the external-check block of this file")
    a = ap.parse_args()
    with open(os.path.join(a.data, "labels.json"), encoding="utf-8") as f:
        labels = json.load(f)
    paths = [os.path.join(a.data, item["filename"]) for item in labels]
    preds = run_cli(a.cli, a.models, paths, a.ort if os.path.exists(a.ort) else None)
    r = report(score(labels, preds))
    r["gender_by_confidence"] = by_confidence(labels, preds)
    table = markdown(r)
    print(table)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"report": r, "predictions": preds}, f, indent=1)
    if a.model_card:
        write_card(a.model_card, table)


if __name__ == "__main__":
    main()
