"""Calibration helpers (need numpy: skipped in CI's bare python)."""
import os
import sys

import pytest

np = pytest.importorskip("numpy")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from training.evaluate import ece, fit_temperature, softmax  # noqa: E402


def test_temperature_recovers_overconfidence():
    rng = np.random.RandomState(0)
    n, k = 4000, 5
    true_logits = rng.randn(n, k) * 1.5
    y = np.array([rng.choice(k, p=p) for p in softmax(true_logits)])
    t = fit_temperature(true_logits * 3.0, y)  # 3x over-confident
    assert 2.4 < t < 3.6
    assert ece(softmax(true_logits * 3.0, t), y) < ece(softmax(true_logits * 3.0), y)


def test_ece_perfect_is_small():
    p = np.array([[0.9, 0.1]] * 1000)
    y = np.array([0] * 900 + [1] * 100)
    assert ece(p, y) < 1e-9
