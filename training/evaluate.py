"""Metrics and calibration (numpy): accuracy, ECE, NLL, temperature scaling, age errors."""
from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, t: float = 1.0) -> np.ndarray:
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits, y, t=1.0) -> float:
    p = softmax(logits, t)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def ece(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top-1 confidence, equal-width bins."""
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(np.float64)
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def reliability(probs, y, n_bins=15):
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(np.float64)
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    out = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (conf > lo) & (conf <= hi)
        out.append((float((lo + hi) / 2), float(correct[m].mean()) if m.any() else np.nan,
                    float(conf[m].mean()) if m.any() else np.nan, int(m.sum())))
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising validation NLL (log-spaced grid, then golden-section refinement)."""
    grid = np.exp(np.linspace(np.log(0.2), np.log(8.0), 161))
    losses = [nll(logits, y, t) for t in grid]
    i = int(np.argmin(losses))
    a, b = np.log(grid[max(0, i - 1)]), np.log(grid[min(len(grid) - 1, i + 1)])
    g = (5 ** 0.5 - 1) / 2
    for _ in range(40):
        c, d = b - g * (b - a), a + g * (b - a)
        if nll(logits, y, np.exp(c)) < nll(logits, y, np.exp(d)):
            b = d
        else:
            a = c
    return float(np.exp((a + b) / 2))


def cls_metrics(logits, y, t=1.0):
    p = softmax(logits, t)
    return {"acc": float((p.argmax(1) == y).mean()), "ece": ece(p, y), "nll": nll(logits, y, t)}


def age_group_metrics(logits, g):
    pred = logits.argmax(1)
    return {"exact": float((pred == g).mean()), "within_one": float((np.abs(pred - g) <= 1).mean())}


def expected_age(group_logits, group_means, t=1.0):
    return softmax(group_logits, t) @ np.asarray(group_means, dtype=np.float64)
