"""PNG plots, training/report/REPORT.md and MODEL_CARD.md, all generated from measured numbers."""
from __future__ import annotations

import os

import numpy as np

from . import data
from .card_text import ETHICAL_NOTE, INTENDED_USE
from .evaluate import reliability, softmax

DPI = 60


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plots(rep, history, heads, temps, group_labels, age_pred, age_true):
    plt = _plt()
    ep = [h["epoch"] for h in history]
    fig, axs = plt.subplots(1, 5, figsize=(17, 3.2))
    for ax, k in zip(axs, ["total", "age_group", "gender", "ethnicity", "age"]):
        ax.plot(ep, [h[f"train_loss_{k}"] for h in history], label="train")
        ax.plot(ep, [h[f"val_loss_{k}"] for h in history], label="val")
        ax.set_title(f"loss: {k}")
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(rep, "loss_curves.png"), dpi=DPI)
    plt.close(fig)

    fig, axs = plt.subplots(1, 4, figsize=(17, 3.2))
    for ax, (k, lab) in zip(axs, [("val_gender_acc", "gender acc"), ("val_ethnicity_acc", "ethnicity acc"),
                                  ("val_age_group_exact", "age group exact"), ("val_age_mae", "age MAE (years)")]):
        ax.plot(ep, [h[k] for h in history])
        ax.set_title("val " + lab)
        ax.set_xlabel("epoch")
    fig.tight_layout()
    fig.savefig(os.path.join(rep, "val_metrics.png"), dpi=DPI)
    plt.close(fig)

    names = {"gender": data.GENDER_LABELS, "ethnicity": data.ETHNICITY_LABELS, "age_group": group_labels}
    fig, axs = plt.subplots(1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [1, 1.6, 2.6]})
    for ax, k in zip(axs, ["gender", "ethnicity", "age_group"]):
        lg, y = heads[k]
        n = len(names[k])
        cm = np.zeros((n, n))
        np.add.at(cm, (y, lg.argmax(1)), 1)
        cmn = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax.imshow(cmn, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{cmn[i, j]:.2f}", ha="center", va="center", fontsize=7 if n > 5 else 9,
                        color="white" if cmn[i, j] > 0.5 else "black")
        ax.set_xticks(range(n))
        ax.set_xticklabels(names[k], rotation=60 if n > 5 else 0, fontsize=8)
        ax.set_yticks(range(n))
        ax.set_yticklabels(names[k], fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"test confusion (row-normalised): {k}")
    fig.tight_layout()
    fig.savefig(os.path.join(rep, "confusion.png"), dpi=DPI)
    plt.close(fig)

    fig, axs = plt.subplots(1, 3, figsize=(13, 4))
    for ax, k in zip(axs, ["age_group", "gender", "ethnicity"]):
        lg, y = heads[k]
        for t, lab, mk in ((1.0, "T=1 (raw)", "o--"), (temps[k], f"T={temps[k]:.2f}", "s-")):
            r = [b for b in reliability(softmax(lg, t), y) if b[3] > 0]
            ax.plot([b[2] for b in r], [b[1] for b in r], mk, label=lab, ms=4)
        ax.plot([0, 1], [0, 1], "k:", lw=1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(f"test reliability: {k}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(rep, "reliability.png"), dpi=DPI)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(age_true, age_pred, s=2, alpha=0.3)
    ax.plot([0, 100], [0, 100], "k:", lw=1)
    ax.set_xlabel("true age")
    ax.set_ylabel("predicted age")
    ax.set_title("test: age_years")
    fig.tight_layout()
    fig.savefig(os.path.join(rep, "age_scatter.png"), dpi=DPI)
    plt.close(fig)


def _pct(v):
    return f"{100 * v:.1f} %"


def _tables(out):
    m = out["metrics"]
    t = m["targets"]
    ok = lambda b: "met" if b else "**not met**"  # noqa: E731
    lines = ["| target | test value | status |", "|---|---|---|",
             f"| gender accuracy >= 94 % | {_pct(m['gender']['acc'])} | {ok(t['gender_acc>=0.94'])} |",
             f"| ethnicity accuracy >= 86 % | {_pct(m['ethnicity']['acc'])} | {ok(t['ethnicity_acc>=0.86'])} |",
             f"| age MAE <= 5.0 years | {m['age_mae']:.2f} | {ok(t['age_mae<=5.0'])} |",
             f"| age group exact (12 groups) | {_pct(m['age_group']['exact'])} | reported |",
             f"| age group within one | {_pct(m['age_group']['within_one'])} | reported |"]
    for h in ("age_group", "gender", "ethnicity"):
        lines.append(f"| ECE {h} <= 0.03 (after temperature) | {m[h]['ece']:.4f} | {ok(t[f'ece_{h}<=0.03'])} |")
    targets = "\n".join(lines)

    cal = ["| head | temperature (fit on val) | ECE before | ECE after | NLL before | NLL after |",
           "|---|---|---|---|---|---|"]
    for h in ("age_group", "gender", "ethnicity"):
        cal.append(f"| {h} | {m[h]['temperature']:.3f} | {m[h]['ece_before']:.4f} | {m[h]['ece']:.4f} | "
                   f"{m[h]['nll_before']:.4f} | {m[h]['nll']:.4f} |")
    cal = "\n".join(cal)

    cells = ["| ethnicity / gender | n (test) | gender acc | ethnicity acc | age-group exact | age MAE |",
             "|---|---|---|---|---|---|"]
    for k, c in m["per_ethnicity_gender"].items():
        cells.append(f"| {k} | {c['n']} | {_pct(c['gender_acc'])} | {_pct(c['ethnicity_acc'])} | "
                     f"{_pct(c['age_group_exact'])} | {c['age_mae']:.2f} |")
    cells = "\n".join(cells)

    ages = ["| age group (true) | n (test) | age MAE (years) | gender acc | ethnicity acc |", "|---|---|---|---|---|"]
    for k, c in m["age_mae_per_group"].items():
        ages.append(f"| {k} | {c['n']} | {c['mae']:.2f} | {_pct(c.get('gender_acc', float('nan')))} | "
                    f"{_pct(c.get('ethnicity_acc', float('nan')))} |")
    ages = "\n".join(ages)

    dmg = ["| file name (Python repr) | action | reason |", "|---|---|---|"]
    for d in out["damaged"]:
        dmg.append(f"| `{d['file']!r}` | {d['action']} | {d['note']} |")
    dmg = "\n".join(dmg)
    return targets, cal, cells, ages, dmg


def _ensemble_desc(e, seed):
    """'5 copies of one network (...)' or, with --extra-members, each architecture and its count."""
    archs = (e or {}).get("architectures")
    if not archs:  # reports written before --extra-members: one architecture
        n = (e or {}).get("members", 1)
        return f"{n} copies of one network, trained identically except for the seed ({seed} + i)"
    groups = {}
    for a in archs:
        groups.setdefault((a["widths"], a["blocks"]), []).append(a["seed"])
    if len(groups) == 1:
        (w, b), seeds = next(iter(groups.items()))
        return (f"{len(archs)} copies of one network (widths {w}, blocks {b}), trained identically except for "
                f"the seed ({', '.join(map(str, seeds))})")
    parts = [f"{len(seeds)} with widths {w}, blocks {b} (seeds {', '.join(map(str, seeds))})"
             for (w, b), seeds in groups.items()]
    return (f"{len(archs)} networks of {len(groups)} architectures: " + "; ".join(parts)
            + "; otherwise trained identically")


def _template(name):
    """The prose of a generated document, with `{name}` slots (str.format_map)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", name), encoding="utf-8") as f:
        return f.read()


def write_report(rep, out):
    targets, cal, cells, ages, dmg = _tables(out)
    m, tr, ex = out["metrics"], out["training"], out["export"]
    ch = out["choices"]
    abl = ""
    ap = os.path.join(rep, "ablation.json")
    if os.path.exists(ap):
        import json
        a = json.load(open(ap))
        rows = ["| layout | params | train time | val gender | val ethnicity | val age-group exact | val age MAE |",
                "|---|---|---|---|---|---|---|"]
        for k, v in a["results"].items():
            last = v["last"]
            rows.append(f"| {k} | {v['params']:,} | {v['train_s']:.0f} s | {_pct(last['val_gender_acc'])} | "
                        f"{_pct(last['val_ethnicity_acc'])} | {_pct(last['val_age_group_exact'])} | "
                        f"{last['val_age_mae']:.2f} |")
        abl = (f"\n## Shared trunk vs separate legs (measured)\n\nSame data, seed, schedule, {a['epochs']} epochs each, "
               f"input {a['size']}x{a['size']}, widths {a['widths']} (legs: each leg's widths / sqrt(3), so compute "
               f"is about the same). Validation split. Written by `--ablation`; see `ablation.json`.\n\n"
               + "\n".join(rows) + "\n")
    ens = ""
    e = ch.get("ensemble")
    if e:
        rows = ["| network | val gender | val ethnicity | val age-group exact | val age MAE (regression) | "
                "test gender | test ethnicity | test age-group exact | test age MAE (regression) |",
                "|---|---|---|---|---|---|---|---|---|"]
        for name, r in e["table"].items():
            v, t = r["val"], r["test"]
            rows.append(f"| {name} | {_pct(v['gender_acc'])} | {_pct(v['ethnicity_acc'])} | {_pct(v['age_group_exact'])} | "
                        f"{v['age_mae_regression']:.2f} | {_pct(t['gender_acc'])} | {_pct(t['ethnicity_acc'])} | "
                        f"{_pct(t['age_group_exact'])} | {t['age_mae_regression']:.2f} |")
        ens = (f"\n## Ensemble of {e['members']} (measured)\n\nThe exported graph averages the outputs of "
               f"{_ensemble_desc(e, tr['seed'])}; "
               f"flip averaging {'on' if e['flip_average'] else 'off'} for every row. Each member alone vs their mean "
               f"(before temperature scaling and before the age-estimate choice):\n\n" + "\n".join(rows) + "\n")
    lat = ex.get("latency", {})
    hist = out.get("history", [])
    tail = hist[-4:]
    trend = "; ".join(f"epoch {h['epoch']}: gender {_pct(h['val_gender_acc'])}, ethnicity "
                      f"{_pct(h['val_ethnicity_acc'])}, MAE {h['val_age_mae']:.2f}" for h in tail)
    unmet = [k for k, v in m["targets"].items() if not v]
    slots = {
        "unmet": ', '.join(unmet) if unmet else 'none',
        "ensemble": _ensemble_desc(ch.get('ensemble'), tr['seed']),
        "epoch_s_min": min(h['epoch_s'] for h in hist) if hist else float('nan'),
        "epoch_s_max": max(h['epoch_s'] for h in hist) if hist else float('nan'),
        "epochs_run": out['epochs_run'],
        "epochs_planned": tr.get('epochs', out['epochs_run']),
        "cut_note": ' (the time budget, --max-minutes, cut the rest)' if out['epochs_run'] < tr.get('epochs', out['epochs_run']) else '',
        "chips_short": out['input'].get('chips', 'as distributed'),
        "trend": trend,
        "n_test": m['n'],
        "files": out['data']['files'],
        "kept": out['data']['kept'],
        "seed": tr['seed'],
        "split": out['data']['split'],
        "edges": out['age_group_edges'],
        "group_labels": out['age_group_labels'],
        "chips": out['input'].get('chips', 'UTKFace aligned&cropped chips as distributed'),
        "size": out['input']['size'],
        "resize": out['input']['resize'],
        "mean": [round(v, 4) for v in out['input']['mean']],
        "std": [round(v, 4) for v in out['input']['std']],
        "dmg": dmg,
        "targets": targets,
        "age_mae_by_method": ', '.join(f'{k} {v:.2f}' for k, v in m['age_mae_by_method'].items()),
        "age_estimate": ch['age_estimate']['chosen'],
        "age_estimate_val_mae": ', '.join(f'{k} {v:.2f}' for k, v in ch['age_estimate']['val_mae'].items()),
        "flip": ch['flip_average']['chosen'],
        "flip_val_without": ch['flip_average']['val_score_no_flip'],
        "flip_val_with": ch['flip_average']['val_score_flip'],
        "flip_score": ch['flip_average']['score'],
        "cal": cal,
        "cells": cells,
        "ages": ages,
        "layout": tr['layout'],
        "widths": tr['widths'],
        "blocks": tr['blocks'],
        "batch": tr['batch'],
        "lr": tr['lr'],
        "wd": tr['wd'],
        "label_smoothing": tr['label_smoothing'],
        "dropout": tr['dropout'],
        "w_age_group": tr['w_age_group'],
        "w_gender": tr['w_gender'],
        "w_ethnicity": tr['w_ethnicity'],
        "w_age": tr['w_age'],
        "train_minutes": out['train_minutes'],
        "abl": abl,
        "ens": ens,
        "onnx_bytes": ex.get('bytes', 0),
        "opset": ex.get('opset'),
        "sha256": ex.get('sha256'),
        "max_abs_diff": ex.get('max_abs_diff_vs_torch', float('nan')),
        "ort_version": lat.get('onnxruntime'),
        "threads": lat.get('threads'),
        "batch1_ms": lat.get('batch1_ms_per_face', float('nan')),
        "batch16_ms": lat.get('batch16_ms_per_face', float('nan')),
    }
    slots["tried"] = _template("report_tried.md").format_map(slots)
    text = _template("report.md").format_map(slots)
    with open(os.path.join(rep, "REPORT.md"), "w") as f:
        f.write(text)


def _sdk_section(out):
    e = out.get("sdk_eval")
    if not e:
        return ""
    rows = []
    for name, what in (("pipeline", "photo path: `faceless analyze` (detect, align, classify)"),
                       ("aligned", "chip as distributed: `faceless analyze --aligned`")):
        r = e[name]
        rows.append(f"| {what} | {r['images']} | {r['faces_found']} | {_pct(r['gender_acc'])} | "
                    f"{_pct(r['ethnicity_acc'])} | {_pct(r['age_group_exact'])} | {_pct(r['age_group_within_one'])} | "
                    f"{r['age_mae_on_found']:.2f} |")
    return f"""### Through the SDK

The numbers above are measured in `training/` on chips already aligned. `tools/evaluate_sdk.py`
measures what an SDK user gets, with the release CLI on {e[name]['images']} test-split images (seed
{e['seed']}): the photo path finds the face with our MTCNN, aligns it and classifies it; a chip where no
face is found counts as wrong.

| path | images | faces found | gender | ethnicity | age group exact | within one | age MAE (found) |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"


def write_model_card(path, out):
    targets, cal, cells, ages, dmg = _tables(out)
    m, ex = out["metrics"], out["export"]
    lat = ex.get("latency", {})
    weak = sorted(m["per_ethnicity_gender"].items(), key=lambda kv: kv[1]["ethnicity_acc"])[:3]
    weak_txt = ", ".join(f"{k} (ethnicity {_pct(v['ethnicity_acc'])}, n={v['n']})" for k, v in weak)
    worst_age = sorted(m["age_mae_per_group"].items(), key=lambda kv: -kv[1]["mae"])[:2]
    worst_age_txt = ", ".join(f"{k} years (MAE {v['mae']:.1f})" for k, v in worst_age)
    worst_gender = sorted(m["age_mae_per_group"].items(), key=lambda kv: kv[1].get("gender_acc", 1.0))[:2]
    worst_gender_txt = ", ".join(f"{k} years ({_pct(v.get('gender_acc', float('nan')))})" for k, v in worst_gender)
    text = f"""# Model card: faceless-attributes 1.0.0

Generated by `training/train.py` from measured numbers (`training/report/metrics.json`); do not edit the
numbers by hand, re-run the training command instead. Full report: `training/report/REPORT.md`.

## What it is

An ensemble of small convolutional networks, trained from scratch, whose outputs are averaged inside
the one ONNX graph: {_ensemble_desc(out['choices'].get('ensemble'), out['training']['seed'])}. It takes one aligned face chip (the whole
200x200 chip resized to {out['input']['size']}x{out['input']['size']}, RGB; trained on: {out['input'].get('chips', 'UTKFace chips as distributed')}) and returns, each as raw logits with a
per-head temperature: an age group (12 groups), a gender label (`male`, `female`), an ethnicity label
(`white`, `black`, `asian`, `indian`, `others`), plus an age estimate in years. File:
`models/classifier/faceless-attributes.onnx` ({ex.get('bytes', 0) / 1e6:.2f} MB; {lat.get('batch1_ms_per_face', float('nan')):.2f} ms per face at batch 1
with one onnxruntime CPU thread on our build machine). Manifest: `models/classifier/faceless-attributes.json`.

## Data and its terms

- **UTKFace** ("Aligned & Cropped" faces). UTKFace is published **for non-commercial research purposes
  only**; the copyright of each image stays with its owner. The images are never copied into this
  repository; training reads them from `../shared/datasets/utkface/images`. Anyone using this model
  must respect those terms: this model is derived from that data.
- {out['data']['files']} images were available here (part of the set is withheld for independent judgement);
  {out['data']['kept']} were usable; our own stratified split: {out['data']['split']}.
- Labels come from the file names. The dataset's labels are one annotation of each face (age as an
  integer, gender as two classes, ethnicity as five coarse classes) and carry that annotation's errors
  and categories.
- Five file names are damaged; we report each and never guess a missing label:

{dmg}

{INTENDED_USE}
- Faces that are not aligned/cropped like the training chips (profile views, heavy occlusion, very
  low resolution, non-photographic images).
- Any use that relies on the gender answer in the age groups where it is weakest: {worst_gender_txt}
  (test accuracy per age group in the table below).

## Performance (our test split, {m['n']} images)

{targets}

Numbers on the withheld images and on real-world photos will be different (usually worse): UTKFace
is web-collected, mostly frontal and well lit.

### Accuracy per ethnicity x gender

{cells}

Weakest cells for ethnicity: {weak_txt}. The `others` class is a catch-all of very different people and
is by far the least reliable; treat its answers with particular care.

### Age error per age group

{ages}

The age error in years grows with age; largest in {worst_age_txt}. Gender accuracy is lowest in
{worst_gender_txt}.

### Calibration

{cal}

ECE (15 equal-width confidence bins) before and after dividing the logits by the temperature. The
runtime computes softmax(logits / T) with the `temperature` values in the manifest.

{_sdk_section(out)}
## Limits

- Small input ({out['input']['size']}x{out['input']['size']}) and compact networks, each trained for {out['epochs_run']} epochs on 2 CPU cores: accuracy is
  below what larger models reach on UTKFace. Targets not met are marked **not met** above.
- Class balance follows UTKFace (many white and young faces; few `others`); accuracy and calibration
  are worse for groups with fewer examples.
- The input must look like a training chip; the SDK aligns detected faces to a canonical template before
  classification. Poor alignment lowers accuracy without necessarily lowering confidence.

{ETHICAL_NOTE}"""
    with open(path, "w") as f:
        f.write(text)
