"""Compact multi-output CNN (ResNet-ish, BatchNorm), trained from scratch.

Two layouts, picked by measurement (see training/report/REPORT.md):
  * "shared": one trunk, four small heads (age group, gender, ethnicity, age in years)
  * "legs":   three separate narrower trunks (age, gender, ethnicity), ~same compute
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k=3, s=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Block(nn.Module):
    """Basic residual block (two 3x3 convs)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)), inplace=True)
        y = self.b2(self.c2(y))
        s = x if self.short is None else self.short(x)
        return F.relu(y + s, inplace=True)


class Trunk(nn.Module):
    def __init__(self, widths=(32, 64, 128, 256), blocks=(1, 1, 1, 1), stem_stride=2):
        super().__init__()
        self.stem = conv_bn(3, widths[0], 3, stem_stride)
        layers = []
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(Block(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.out_dim = cin

    def forward(self, x):
        x = self.layers(self.stem(x))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def head(cin, cout, hidden=128, p=0.2):
    return nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Dropout(p), nn.Linear(hidden, cout))


class FaceAttributes(nn.Module):
    """Outputs (age_group_logits [N,12], gender_logits [N,2], ethnicity_logits [N,5], age_years [N])."""

    def __init__(self, layout="shared", widths=(32, 64, 128, 256), blocks=(1, 1, 1, 1),
                 n_groups=12, age_mean=33.0, age_std=20.0, stem_stride=2, dropout=0.2):
        super().__init__()
        self.layout = layout
        if layout == "shared":
            self.trunk = Trunk(widths, blocks, stem_stride)
            d = self.trunk.out_dim
        elif layout == "legs":
            # three legs; width scaled by 1/sqrt(3) so compute stays about the same
            lw = tuple(max(8, int(round(w / 3 ** 0.5 / 8)) * 8) for w in widths)
            self.legs = nn.ModuleList([Trunk(lw, blocks, stem_stride) for _ in range(3)])
            d = self.legs[0].out_dim
        else:
            raise ValueError(layout)
        self.age_group = head(d, n_groups, p=dropout)
        self.gender = head(d, 2, p=dropout)
        self.ethnicity = head(d, 5, p=dropout)
        self.age_reg = head(d, 1, p=dropout)
        # regression target is standardised age; de-standardised inside the graph
        self.register_buffer("age_mean", torch.tensor(float(age_mean)))
        self.register_buffer("age_std", torch.tensor(float(age_std)))

    def forward(self, x):
        if self.layout == "shared":
            fa = fg = fe = self.trunk(x)
        else:
            fa, fg, fe = (leg(x) for leg in self.legs)
        age_std = self.age_reg(fa).squeeze(1)
        return (self.age_group(fa), self.gender(fg), self.ethnicity(fe),
                age_std * self.age_std + self.age_mean)
