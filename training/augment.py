"""Batch augmentation on uint8 NHWC tensors (torch): flip, small shift/scale/rotation, colour jitter.

Shifts and zooms stay small (<= ~8 % / +-10 %) so the framing of the whole chip is kept,
which is what the runtime feeds: the whole aligned chip resized to SxS, no crop.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def to_input(xb: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 [N,S,S,3] -> normalised float [N,3,S,S] (no augmentation)."""
    x = xb.permute(0, 3, 1, 2).float().div_(255.0)
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def augment(xb: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, gen: torch.Generator,
            shift=0.08, scale=(0.9, 1.1), rot_deg=10.0, jitter=0.2) -> torch.Tensor:
    x = xb.permute(0, 3, 1, 2).float().div_(255.0)
    n = x.shape[0]

    def u(lo, hi):
        return torch.rand(n, generator=gen) * (hi - lo) + lo

    s = 1.0 / u(*scale)  # >1 zooms out, <1 zooms in
    r = u(-rot_deg, rot_deg) * math.pi / 180
    f = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    tx, ty = u(-shift, shift), u(-shift, shift)
    theta = torch.stack([
        torch.stack([s * torch.cos(r) * f, -s * torch.sin(r), tx], 1),
        torch.stack([s * torch.sin(r) * f, s * torch.cos(r), ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if jitter > 0:
        b = u(1 - jitter, 1 + jitter).view(n, 1, 1, 1)
        c = u(1 - jitter, 1 + jitter).view(n, 1, 1, 1)
        sa = u(1 - jitter, 1 + jitter).view(n, 1, 1, 1)
        x = x * b
        m = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - m) * c + m
        gray = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        x = gray + (x - gray) * sa
        x = x.clamp_(0.0, 1.0)
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
