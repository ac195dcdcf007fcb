"""One command: UTKFace images -> trained multi-output CNN -> calibrated ONNX model + report.

    /work/venv/bin/python -m training.train            # from the repo root
    training/train.sh [--data-dir DIR] [--epochs N] ...

Steps: parse names + stratified split + manifest (training.data, stdlib) -> decode cache
(training.cache) -> train -> temperature scaling on val -> test metrics -> plots ->
ONNX export + onnxruntime check + latency -> models/classifier/{onnx,json,SHA256SUMS}
-> training/report/REPORT.md -> MODEL_CARD.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data
from .augment import augment
from .cache import RESAMPLE, build_cache
from .evaluate import (age_group_metrics, cls_metrics, expected_age, fit_temperature, softmax)
from .finish import PreparedData, finish
from .model import FaceAttributes
from .predict import predict
from .schema import HEADS, N_AGE_GROUPS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.path.join("..", "shared", "datasets", "utkface", "images"))
    p.add_argument("--chips-note", default="UTKFace aligned&cropped chips as distributed",
                   help="what the images in --data-dir are (train.sh: re-aligned by the SDK itself)")
    p.add_argument("--out-dir", default=os.path.join("training", "out"), help="checkpoints, logs (git-ignored)")
    p.add_argument("--cache-dir", default=os.path.join("training", "out", "cache"))
    p.add_argument("--report-dir", default=os.path.join("training", "report"))
    p.add_argument("--model-dir", default=os.path.join("models", "classifier"))
    p.add_argument("--model-card", default="MODEL_CARD.md")
    p.add_argument("--size", type=int, default=64, help="model input S (SxS)")
    p.add_argument("--layout", choices=["shared", "legs"], default="shared")
    p.add_argument("--widths", default="32,64,128,192")
    p.add_argument("--blocks", default="1,1,1,1")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--members", type=int, default=5,
                   help="ensemble size: member i is the same network trained with seed SEED+i; the exported "
                        "graph averages the members' outputs")
    p.add_argument("--extra-members", nargs="*", default=[], type=member_group, metavar="WIDTHS/BLOCKS/N",
                   help="more members of other architectures, averaged with the --members ones: e.g. "
                        "32,64,128,256/1,2,2,2/2 adds 2 members with those widths and blocks (seeds SEED+j). "
                        "Different architectures make more different mistakes than different seeds do")
    p.add_argument("--train-members", default="",
                   help="comma-separated member indices (the --members ones first, then the --extra-members "
                        "ones, in order): only train (or reuse) these, save their checkpoints "
                        "and stop (to train members in parallel processes)")
    p.add_argument("--retrain", action="store_true",
                   help="train every member even if training/out/member-I.pt matches the arguments")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--wd", type=float, default=5e-2)
    p.add_argument("--label-smoothing", type=float, default=0.05)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--w-age-group", type=float, default=1.0, help="loss weight, age-group head")
    p.add_argument("--w-gender", type=float, default=1.0, help="loss weight, gender head")
    p.add_argument("--w-ethnicity", type=float, default=1.0, help="loss weight, ethnicity head")
    p.add_argument("--w-age", type=float, default=1.0, help="loss weight, age regression (L1 on age/std)")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-minutes", type=float, default=0.0,
                   help="if >0: shorten the LR schedule (once, after epoch 2) so training fits this wall time")
    p.add_argument("--limit-train", type=int, default=0, help="use only N training images (smoke tests)")
    p.add_argument("--ablation", type=int, default=0,
                   help="if >0: only run the shared-vs-legs measurement for N epochs each, write report/ablation.json")
    p.add_argument("--skip-export", action="store_true")
    return p.parse_args(argv)


def member_group(spec):
    """'WIDTHS/BLOCKS/N' (--extra-members) -> (widths, blocks, n), checked once, at parse time."""
    if not re.fullmatch(r"\d+(,\d+){3}/\d+(,\d+){3}/\d+", spec):
        raise argparse.ArgumentTypeError(f"{spec!r}: expected WIDTHS/BLOCKS/N, e.g. 32,64,128,256/1,2,2,2/2")
    widths, blocks, n = spec.split("/")
    return widths, blocks, int(n)


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_model(args, layout, age_mean, age_std):
    return FaceAttributes(layout, tuple(int(w) for w in args.widths.split(",")),
                          tuple(int(b) for b in args.blocks.split(",")), N_AGE_GROUPS, age_mean, age_std,
                          dropout=args.dropout)


def losses(out, yb, args, age_std):
    ag, g, e, age = out
    ls = args.label_smoothing
    parts = {
        "age_group": F.cross_entropy(ag, yb["age_group"], label_smoothing=ls),
        "gender": F.cross_entropy(g, yb["gender"], label_smoothing=ls),
        "ethnicity": F.cross_entropy(e, yb["ethnicity"], label_smoothing=ls),
        "age": F.l1_loss(age / age_std, yb["age"] / age_std),
    }
    w = {"age_group": args.w_age_group, "gender": args.w_gender, "ethnicity": args.w_ethnicity, "age": args.w_age}
    return sum(w[k] * parts[k] for k in parts), parts


def train_model(args, layout, X, Y, tr, va, mean, std, epochs, log_prefix, wb=None):
    set_seed(args.seed)
    age_mean, age_std = float(Y["age"][tr].mean()), float(Y["age"][tr].std())
    model = build_model(args, layout, age_mean, age_std).to(memory_format=torch.channels_last)
    decay, no_decay = [], []
    for n_, p_ in model.named_parameters():
        (no_decay if p_.ndim <= 1 else decay).append(p_)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    per_epoch = len(tr) // args.batch
    plan = {"epochs": epochs}  # may shrink once, if --max-minutes would be exceeded

    def lr_at(step):
        # one-cycle: linear warm-up over 15 % of the steps, then cosine down to lr/200
        total = per_epoch * plan["epochs"]
        p = min(1.0, step / max(1, total))
        if p < 0.15:
            return args.lr * (0.05 + 0.95 * p / 0.15)
        return args.lr * (0.005 + 0.995 * 0.5 * (1 + np.cos(np.pi * (p - 0.15) / 0.85)))
    step = 0
    gen = torch.Generator().manual_seed(args.seed)
    Yt = {k: torch.as_tensor(v) for k, v in Y.items()}
    history = []
    t0 = time.time()
    ep = 0
    while ep < plan["epochs"]:
        model.train()
        te = time.time()
        perm = torch.as_tensor(tr)[torch.randperm(len(tr), generator=gen)]
        sums = {k: 0.0 for k in HEADS + ["total"]}
        nb = 0
        for i in range(0, len(perm) - args.batch + 1, args.batch):
            bi = perm[i:i + args.batch]
            x = augment(X[bi], mean, std, gen).contiguous(memory_format=torch.channels_last)
            yb = {"age_group": Yt["age_group"][bi], "gender": Yt["gender"][bi],
                  "ethnicity": Yt["ethnicity"][bi], "age": Yt["age"][bi].float()}
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step)
            total, parts = losses(model(x), yb, args, age_std)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            step += 1
            sums["total"] += float(total)
            for k in HEADS:
                sums[k] += float(parts[k])
            nb += 1
        row = {"epoch": ep + 1, "lr": lr_at(step), "epoch_s": round(time.time() - te, 1)}
        row.update({f"train_loss_{k}": sums[k] / nb for k in HEADS + ["total"]})
        ag, g, e, age = predict(model, X, va, mean, std)
        with torch.no_grad():
            vt, vparts = losses(tuple(torch.as_tensor(a) for a in (ag, g, e, age)),
                                {k: Yt[k][va] if k != "age" else Yt[k][va].float() for k in HEADS}, args, age_std)
        row.update({f"val_loss_{k}": float(vparts[k]) for k in HEADS})
        row["val_loss_total"] = float(vt)
        row["val_gender_acc"] = float((g.argmax(1) == Y["gender"][va]).mean())
        row["val_ethnicity_acc"] = float((e.argmax(1) == Y["ethnicity"][va]).mean())
        gm = age_group_metrics(ag, Y["age_group"][va])
        row["val_age_group_exact"], row["val_age_group_within_one"] = gm["exact"], gm["within_one"]
        row["val_age_mae"] = float(np.abs(age - Y["age"][va]).mean())
        history.append(row)
        print(f"[{log_prefix}] ep {ep + 1}/{plan['epochs']} {row['epoch_s']}s loss {row['train_loss_total']:.3f} "
              f"val: gender {row['val_gender_acc']:.4f} eth {row['val_ethnicity_acc']:.4f} "
              f"grp {row['val_age_group_exact']:.4f}/{row['val_age_group_within_one']:.4f} "
              f"mae {row['val_age_mae']:.2f}", flush=True)
        if wb is not None:
            wb.log(row)
        ep += 1
        if args.max_minutes > 0 and plan["epochs"] == epochs and ep >= 2:
            # keep the whole schedule (warm-up and cool-down) inside the time budget
            per_ep = (time.time() - t0) / ep
            fit = int(args.max_minutes * 60 / per_ep)
            if fit < epochs:
                plan["epochs"] = max(ep + 1, fit)
                print(f"[{log_prefix}] {per_ep:.0f} s/epoch: schedule shortened to {plan['epochs']} epochs "
                      f"to fit --max-minutes {args.max_minutes}", flush=True)
    return model, history


# arguments that change what a member learns: a saved member is reused only if all of them match
MEMBER_KEYS = ("size", "layout", "widths", "blocks", "epochs", "batch", "lr", "wd", "label_smoothing", "dropout",
               "w_age_group", "w_gender", "w_ethnicity", "w_age", "limit_train")


class Ensemble(nn.Module):
    """Mean of the members' outputs (logits and age). Independently seeded members make different
    mistakes, so their mean is more accurate than any one of them (measured: training/report)."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        outs = [m(x) for m in self.members]
        n = float(len(outs))
        return tuple(sum(o[k] for o in outs) / n for k in range(4))


@dataclass
class MemberSpec:
    """One ensemble member: its name in reports, its checkpoint, and its own training arguments
    (the run's arguments with this member's seed, widths and blocks)."""
    name: str
    path: str
    args: argparse.Namespace


def member_specs(args):
    """--members copies of the --widths/--blocks network (checkpoints member-J.pt), then each
    --extra-members group (member-WIDTHS_BLOCKS-J.pt); member J of a group has seed SEED+J."""
    groups = [(args.widths, args.blocks, args.members, "", "")]
    groups += [(w, b, n, f"{w}_{b}".replace(",", "-") + "-", f" ({w}/{b})") for w, b, n in args.extra_members]
    specs = []
    for widths, blocks, n, tag, arch in groups:
        for j in range(n):
            specs.append(MemberSpec(f"member {len(specs)}{arch}", os.path.join(args.out_dir, f"member-{tag}{j}.pt"),
                                    argparse.Namespace(**{**vars(args), "seed": args.seed + j,
                                                          "widths": widths, "blocks": blocks})))
    return specs


def train_or_reuse_member(spec, X, Y, tr, va, mean, std, prep, wb):
    """Train one member, or reuse its checkpoint when it was trained with the same arguments."""
    margs = spec.args
    if os.path.exists(spec.path) and not margs.retrain:
        ck = torch.load(spec.path)
        # a schedule that --max-minutes cut short is not the schedule asked for
        same = (all(ck["args"].get(k) == getattr(margs, k) for k in MEMBER_KEYS) and ck["seed"] == margs.seed
                and len(ck["history"]) == margs.epochs)
        if same and ck["edges"] == prep.edges and torch.allclose(ck["mean"], mean):
            model = build_model(margs, margs.layout, 0.0, 1.0)
            model.load_state_dict(ck["state_dict"])
            print(f"[{spec.name}] reused {spec.path} ({len(ck['history'])} epochs, seed {margs.seed})", flush=True)
            return model.to(memory_format=torch.channels_last), ck["history"], ck["train_minutes"]
        print(f"[{spec.name}] {spec.path} was trained with other arguments: training again", flush=True)
    t = time.time()
    model, history = train_model(margs, margs.layout, X, Y, tr, va, mean, std, margs.epochs, spec.name, wb)
    minutes = (time.time() - t) / 60
    tmp = spec.path + ".tmp"
    torch.save({"state_dict": model.state_dict(), "args": vars(margs), "seed": margs.seed, "mean": mean, "std": std,
                "edges": prep.edges, "train_minutes": minutes, "history": history}, tmp)
    os.replace(tmp, spec.path)
    return model, history, minutes


def write_history(history, path_prefix):
    with open(path_prefix + ".json", "w") as f:
        json.dump(history, f, indent=1)
    with open(path_prefix + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(history[0].keys()))
        w.writeheader()
        w.writerows(history)


def maybe_wandb(args):
    try:
        import wandb  # noqa: F401
    except Exception:
        return None
    os.environ.setdefault("WANDB_MODE", "offline")
    run = wandb.init(project="faceless-attributes", config=vars(args), mode="offline",
                     dir=args.out_dir)
    return run


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.report_dir, exist_ok=True)
    t_start = time.time()

    # 1. data preparation (stdlib)
    names = data.list_images(args.data_dir)
    prep = data.prepare(names, args.seed)
    data.write_manifest(prep.records, os.path.join(args.out_dir, "manifest.csv"))
    data.write_manifest(prep.records, os.path.join(args.report_dir, "manifest.csv"))
    print(f"[data] {prep.n_files} files, {len(prep.records)} kept, split {prep.counts}, edges {prep.edges}")
    for d in prep.damaged:
        print(f"[data] damaged {d.file!r}: {'kept' if d.record else 'dropped'} ({d.note})")

    recs = prep.records
    X = torch.from_numpy(build_cache(args.data_dir, [r.file for r in recs], args.size, args.cache_dir))
    Y = {"age": np.array([r.age for r in recs], dtype=np.float32),
         "gender": np.array([r.gender for r in recs], dtype=np.int64),
         "ethnicity": np.array([r.ethnicity for r in recs], dtype=np.int64),
         "age_group": np.array([r.age_group for r in recs], dtype=np.int64)}
    split = np.array([r.split for r in recs])
    tr, va, te = (np.nonzero(split == s)[0] for s in ("train", "val", "test"))
    if args.limit_train:  # smoke tests: a seeded random subset of the training split
        tr = np.sort(np.random.RandomState(args.seed).permutation(tr)[: args.limit_train])
    # per-channel normalisation from the training split
    xs = X[torch.as_tensor(tr)].float().div_(255.0)
    mean = xs.mean(dim=(0, 1, 2))
    std = xs.std(dim=(0, 1, 2))
    del xs
    print(f"[data] mean {mean.tolist()} std {std.tolist()}")

    if args.ablation:
        res = {}
        for layout in ("shared", "legs"):
            t = time.time()
            m, h = train_model(args, layout, X, Y, tr, va, mean, std, args.ablation, f"ablation-{layout}")
            res[layout] = {"params": sum(p.numel() for p in m.parameters()),
                           "train_s": round(time.time() - t, 1), "last": h[-1], "history": h}
        with open(os.path.join(args.report_dir, "ablation.json"), "w") as f:
            json.dump({"epochs": args.ablation, "widths": args.widths, "size": args.size, "results": res}, f, indent=1)
        for k, v in res.items():
            l = v["last"]
            print(f"[ablation] {k}: params {v['params']} {v['train_s']}s gender {l['val_gender_acc']:.4f} "
                  f"eth {l['val_ethnicity_acc']:.4f} grp {l['val_age_group_exact']:.4f} mae {l['val_age_mae']:.2f}")
        return 0

    wb = maybe_wandb(args)
    specs = member_specs(args)
    only = [int(i) for i in args.train_members.split(",") if i != ""]
    if any(not 0 <= i < len(specs) for i in only):
        raise SystemExit(f"--train-members {args.train_members}: the ensemble has members 0..{len(specs) - 1}")
    members, histories, train_minutes = [], [], 0.0
    for i in (only or range(len(specs))):
        model, history, minutes = train_or_reuse_member(specs[i], X, Y, tr, va, mean, std, prep, wb)
        members.append(model)
        histories.append(history)
        train_minutes += minutes
    if only:
        print(f"[members] trained/reused {only}; run again without --train-members to finish")
        return 0
    model = Ensemble(members).to(memory_format=torch.channels_last)
    for i, h in enumerate(histories):
        write_history(h, os.path.join(args.report_dir, "history" if i == 0 else f"history-member{i}"))

    # 2. choices measured on the VALIDATION split: flip-averaging, age estimate, temperatures
    finish(args, specs, model, PreparedData(X, Y, tr, va, te, mean, std, prep), histories, train_minutes, wb)
    print(f"[done] total {(time.time() - t_start) / 60:.1f} min")
    if wb is not None:
        wb.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
