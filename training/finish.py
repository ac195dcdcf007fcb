"""After training: val-measured choices, temperature scaling, test metrics, plots, ONNX export, report."""
from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, List

import numpy as np
import torch
import torch.nn as nn

from . import data, report
from .augment import to_input
from .cache import RESAMPLE
from .evaluate import (age_group_metrics, cls_metrics, ece, expected_age, fit_temperature, softmax)
from .predict import predict
from .schema import INPUT_NAME, MODEL_NAME, N_AGE_GROUPS, OPSET, OUTPUTS, output_shapes


@dataclass
class PreparedData:
    """The cached chips, labels, split indices, normalisation and data-preparation record of one run."""
    X: Any
    Y: Dict[str, Any]
    tr: Any
    va: Any
    te: Any
    mean: Any
    std: Any
    prep: Any


@dataclass
class Choices:
    """What finishing chose on the validation split and bakes into the exported graph and manifest."""
    flip: bool
    age_mode: str
    means: List[float]
    temps: Dict[str, float]
    edges: List[int]
    labels: List[str]


class ExportModel(nn.Module):
    """Graph that is exported: raw logits (no temperature), age in years [N]."""

    def __init__(self, net, flip: bool, age_mode: str, group_means, t_age_group: float):
        super().__init__()
        self.net = net
        self.flip = flip
        self.age_mode = age_mode
        self.register_buffer("group_means", torch.tensor(group_means, dtype=torch.float32))
        self.t = float(t_age_group)

    def forward(self, x):
        ag, g, e, age = self.net(x)
        if self.flip:
            ag2, g2, e2, age2 = self.net(torch.flip(x, [3]))
            ag, g, e, age = (ag + ag2) * 0.5, (g + g2) * 0.5, (e + e2) * 0.5, (age + age2) * 0.5
        if self.age_mode != "regression":
            exp_age = torch.softmax(ag / self.t, dim=1) @ self.group_means
            age = exp_age if self.age_mode == "expected" else 0.5 * (age + exp_age)
        return ag, g, e, age


def age_estimate(mode, reg, group_logits, means, t):
    if mode == "regression":
        return reg
    ex = expected_age(group_logits, means, t)
    return ex if mode == "expected" else 0.5 * (reg + ex)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def member_table(specs, model, X, Y, va, te, mean, std, flip):
    """Each ensemble member alone vs the whole ensemble, on val and test (argmax accuracy, regression MAE)."""
    nets = list(getattr(model, "members", [model]))
    rows = {}

    def score(o, idx):
        return {"gender_acc": float((o[1].argmax(1) == Y["gender"][idx]).mean()),
                "ethnicity_acc": float((o[2].argmax(1) == Y["ethnicity"][idx]).mean()),
                "age_group_exact": float((o[0].argmax(1) == Y["age_group"][idx]).mean()),
                "age_mae_regression": float(np.abs(o[3] - Y["age"][idx]).mean())}
    for name, net in [(spec.name, n) for spec, n in zip(specs, nets)] + [("ensemble", model)]:
        rows[name] = {split: score(predict(net, X, idx, mean, std, flip), idx)
                      for split, idx in (("val", va), ("test", te))}
    return rows


def finish(args, specs, model, d: PreparedData, histories, train_minutes, wb=None):
    X, Y, tr, va, te, mean, std, prep = d.X, d.Y, d.tr, d.va, d.te, d.mean, d.std, d.prep
    history = histories[0]
    rep = args.report_dir
    edges = prep.edges
    labels = data.group_labels(edges)
    # mean training age of each group (for the expected-age estimate)
    means = []
    for k in range(N_AGE_GROUPS):
        sel = Y["age"][tr][Y["age_group"][tr] == k]
        means.append(float(sel.mean()) if len(sel) else (edges[k] + edges[k + 1] - 1) / 2.0)

    # --- flip averaging: measured on val
    choice = {}
    pv = {False: predict(model, X, va, mean, std, False), True: predict(model, X, va, mean, std, True)}

    def val_score(o):
        return ((o[1].argmax(1) == Y["gender"][va]).mean() + (o[2].argmax(1) == Y["ethnicity"][va]).mean()
                + (o[0].argmax(1) == Y["age_group"][va]).mean() - np.abs(o[3] - Y["age"][va]).mean() / 10)

    flip = bool(val_score(pv[True]) > val_score(pv[False]))
    choice["flip_average"] = {"chosen": flip, "val_score_no_flip": float(val_score(pv[False])),
                              "val_score_flip": float(val_score(pv[True])),
                              "score": "gender_acc + ethnicity_acc + age_group_exact - age_MAE/10 (val)"}
    ag_v, g_v, e_v, age_v = pv[flip]

    # --- temperature per head on val
    temps = {"age_group": fit_temperature(ag_v, Y["age_group"][va]),
             "gender": fit_temperature(g_v, Y["gender"][va]),
             "ethnicity": fit_temperature(e_v, Y["ethnicity"][va])}

    # --- age estimate: regression head vs expected age from group probabilities vs their mean (val MAE)
    age_val = {m: float(np.abs(age_estimate(m, age_v, ag_v, means, temps["age_group"]) - Y["age"][va]).mean())
               for m in ("regression", "expected", "blend")}
    age_mode = min(age_val, key=age_val.get)
    choice["age_estimate"] = {"chosen": age_mode, "val_mae": age_val}
    print(f"[finish] flip={flip} temps={temps} age val MAE {age_val} -> {age_mode}", flush=True)

    choice["ensemble"] = {"members": len(specs), "seeds": [s.args.seed for s in specs],
                          "architectures": [{"widths": s.args.widths, "blocks": s.args.blocks, "seed": s.args.seed}
                                            for s in specs],
                          "flip_average": flip, "table": member_table(specs, model, X, Y, va, te, mean, std, flip)}

    # --- test metrics
    ag, g, e, age_reg = predict(model, X, te, mean, std, flip)
    age = age_estimate(age_mode, age_reg, ag, means, temps["age_group"])
    yt = {k: v[te] for k, v in Y.items()}
    metrics = {"split": "test", "n": int(len(te))}
    for head, lg in (("gender", g), ("ethnicity", e), ("age_group", ag)):
        before = cls_metrics(lg, yt[head], 1.0)
        after = cls_metrics(lg, yt[head], temps[head])
        metrics[head] = {"acc": after["acc"], "ece_before": before["ece"], "ece": after["ece"],
                         "nll_before": before["nll"], "nll": after["nll"], "temperature": temps[head]}
    metrics["age_group"].update(age_group_metrics(ag, yt["age_group"]))
    metrics["age_mae"] = float(np.abs(age - yt["age"]).mean())
    metrics["age_mae_by_method"] = {m: float(np.abs(age_estimate(m, age_reg, ag, means, temps["age_group"])
                                                    - yt["age"]).mean()) for m in ("regression", "expected", "blend")}
    metrics["age_mae_per_group"] = {}
    for k in range(N_AGE_GROUPS):
        sel = yt["age_group"] == k
        metrics["age_mae_per_group"][labels[k]] = {
            "n": int(sel.sum()), "mae": float(np.abs(age - yt["age"])[sel].mean()),
            "gender_acc": float((g.argmax(1) == yt["gender"])[sel].mean()),
            "ethnicity_acc": float((e.argmax(1) == yt["ethnicity"])[sel].mean())}
    cells = {}
    for ei, en in enumerate(data.ETHNICITY_LABELS):
        for gi, gn in enumerate(data.GENDER_LABELS):
            m = (yt["ethnicity"] == ei) & (yt["gender"] == gi)
            cells[f"{en}/{gn}"] = {"n": int(m.sum()),
                                   "gender_acc": float((g.argmax(1) == yt["gender"])[m].mean()),
                                   "ethnicity_acc": float((e.argmax(1) == yt["ethnicity"])[m].mean()),
                                   "age_group_exact": float((ag.argmax(1) == yt["age_group"])[m].mean()),
                                   "age_mae": float(np.abs(age - yt["age"])[m].mean())}
    metrics["per_ethnicity_gender"] = cells
    metrics["targets"] = {"gender_acc>=0.94": metrics["gender"]["acc"] >= 0.94,
                          "ethnicity_acc>=0.86": metrics["ethnicity"]["acc"] >= 0.86,
                          "age_mae<=5.0": metrics["age_mae"] <= 5.0,
                          **{f"ece_{h}<=0.03": metrics[h]["ece"] <= 0.03 for h in ("age_group", "gender", "ethnicity")}}
    print("[finish] test:", json.dumps({k: metrics[k] for k in ("gender", "ethnicity", "age_group", "age_mae")}),
          flush=True)
    if wb is not None:
        wb.summary.update({"test_gender_acc": metrics["gender"]["acc"], "test_ethnicity_acc": metrics["ethnicity"]["acc"],
                           "test_age_mae": metrics["age_mae"]})

    report.plots(rep, history, {"gender": (g, yt["gender"]), "ethnicity": (e, yt["ethnicity"]),
                                "age_group": (ag, yt["age_group"])}, temps, labels, age, yt["age"])

    # --- export
    export = {}
    if not args.skip_export:
        chosen = Choices(flip, age_mode, means, temps, edges, labels)
        export = export_onnx(args, model, d, chosen, metrics, choice, train_minutes, history)
    out = {"metrics": metrics, "choices": choice, "temperature": temps, "export": export,
           "age_group_edges": edges, "age_group_labels": labels, "age_group_mean_age": means,
           "damaged": [{"file": d.file, "action": "kept" if d.record else "dropped", "note": d.note}
                       for d in prep.damaged],
           "data": {"files": prep.n_files, "kept": len(prep.records), "split": prep.counts},
           "input": {"size": args.size, "mean": [float(v) for v in mean], "std": [float(v) for v in std],
                     "resize": RESAMPLE, "chips": args.chips_note},
           "training": {k: v for k, v in vars(args).items()}, "train_minutes": train_minutes,
           "epochs_run": len(history), "history": history,
           "member_epochs": [len(h) for h in histories]}
    # measured through the shipped SDK by tools/evaluate_sdk.py (after an export), if present
    sdk_eval = os.path.join(rep, "sdk_eval.json")
    if os.path.exists(sdk_eval):
        with open(sdk_eval) as f:
            out["sdk_eval"] = json.load(f)
    with open(os.path.join(rep, "metrics.json"), "w") as f:
        json.dump(out, f, indent=1)
    report.write_report(rep, out)
    if args.model_card:
        report.write_model_card(args.model_card, out)
    return out


def export_onnx(args, model, d: PreparedData, chosen: Choices, metrics, choice, train_minutes, history):
    import onnx
    import onnxruntime as ort

    X, te, mean, std, prep = d.X, d.te, d.mean, d.std, d.prep
    flip, age_mode, means, temps, edges, labels = (chosen.flip, chosen.age_mode, chosen.means, chosen.temps,
                                                   chosen.edges, chosen.labels)

    os.makedirs(args.model_dir, exist_ok=True)
    net = copy.deepcopy(model).to(memory_format=torch.contiguous_format).eval()
    wrapper = ExportModel(net, flip, age_mode, means, temps["age_group"]).eval()
    S = args.size
    path = os.path.join(args.model_dir, f"{MODEL_NAME}.onnx")
    dummy = torch.zeros(2, 3, S, S)
    torch.onnx.export(wrapper, dummy, path, input_names=[INPUT_NAME], output_names=OUTPUTS,
                      dynamic_axes={INPUT_NAME: {0: "N"}, **{o: {0: "N"} for o in OUTPUTS}},
                      opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    # verify against PyTorch on a batch of real test chips
    xb = to_input(X[torch.as_tensor(te[:32])], mean, std).contiguous()
    with torch.no_grad():
        ref = [t.numpy() for t in wrapper(xb)]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == [INPUT_NAME]
    assert [o.name for o in sess.get_outputs()] == OUTPUTS
    got = sess.run(None, {INPUT_NAME: xb.numpy()})
    max_diff = max(float(np.abs(a - b).max()) for a, b in zip(ref, got))
    shapes = [list(o.shape) for o in got]
    assert shapes == output_shapes(32), shapes
    assert max_diff < 1e-4, f"onnxruntime differs from PyTorch by {max_diff}"

    def lat(n, reps):
        x = xb[:1].repeat(n, 1, 1, 1).numpy() if n > 32 else xb[:n].numpy()
        for _ in range(5):
            sess.run(None, {INPUT_NAME: x})
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            sess.run(None, {INPUT_NAME: x})
            ts.append(time.perf_counter() - t)
        return float(np.median(ts)) * 1000 / n

    latency = {"batch1_ms_per_face": lat(1, 200), "batch16_ms_per_face": lat(16, 40),
               "threads": "intra_op_num_threads=1, inter_op_num_threads=1", "provider": "CPUExecutionProvider",
               "onnxruntime": ort.__version__}
    size = os.path.getsize(path)
    digest = sha256(path)

    man_path = os.path.join(args.model_dir, f"{MODEL_NAME}.json")
    manifest = {}
    if os.path.exists(man_path):  # merge: keep keys written by others (e.g. "alignment")
        with open(man_path) as f:
            manifest = json.load(f)
    manifest.update({
        "name": MODEL_NAME, "version": "1.0.0", "onnx": f"{MODEL_NAME}.onnx", "sha256": digest,
        "input": {"name": INPUT_NAME, "layout": "NCHW", "channels": "RGB", "size": [S, S],
                  "mean": [round(float(v), 6) for v in mean], "std": [round(float(v), 6) for v in std]},
        "chip_size": [200, 200],
        "outputs": OUTPUTS,
        "age_groups": {"edges": [int(v) for v in edges], "labels": labels},
        "gender_labels": data.GENDER_LABELS,
        "ethnicity_labels": data.ETHNICITY_LABELS,
        "temperature": {k: round(float(v), 6) for k, v in temps.items()},
        "metrics": {"split": "test (own stratified split, seed %d)" % args.seed, "n": metrics["n"],
                    "gender_acc": round(metrics["gender"]["acc"], 4),
                    "ethnicity_acc": round(metrics["ethnicity"]["acc"], 4),
                    "age_group_exact": round(metrics["age_group"]["exact"], 4),
                    "age_group_within_one": round(metrics["age_group"]["within_one"], 4),
                    "age_mae_years": round(metrics["age_mae"], 3),
                    "ece": {h: round(metrics[h]["ece"], 4) for h in ("age_group", "gender", "ethnicity")},
                    "ece_before_temperature": {h: round(metrics[h]["ece_before"], 4)
                                               for h in ("age_group", "gender", "ethnicity")}},
        "training": {"seed": args.seed, "epochs": len(history), "torch": torch.__version__.split("+")[0],
                     "layout": args.layout, "widths": args.widths, "blocks": args.blocks,
                     "ensemble_members": len(choice["ensemble"]["seeds"]), "member_seeds": choice["ensemble"]["seeds"],
                     "member_architectures": choice["ensemble"]["architectures"],
                     "flip_average_in_graph": flip, "age_years_from": age_mode,
                     "resize": RESAMPLE, "chips": args.chips_note,
                     "dataset": "UTKFace aligned&cropped (non-commercial research only)",
                     "split": prep.counts, "train_minutes": round(train_minutes, 1),
                     "opset": OPSET, "onnx_bytes": size},
    })
    with open(man_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.model_dir, "SHA256SUMS"), "w") as f:
        f.write(f"{digest}  {MODEL_NAME}.onnx\n")
    info = {"path": path, "bytes": size, "sha256": digest, "max_abs_diff_vs_torch": max_diff,
            "latency": latency, "opset": OPSET}
    print(f"[export] {path} {size} bytes sha256 {digest} maxdiff {max_diff:.2e} latency {latency}", flush=True)
    return info
