"""Running a trained network over cached chips: the one inference loop training, finishing and export share."""
from __future__ import annotations

import numpy as np
import torch

from .augment import to_input


@torch.no_grad()
def predict(model, X, idx, mean, std, flip=False, bs=512):
    model.eval()
    outs = [[], [], [], []]
    for i in range(0, len(idx), bs):
        x = to_input(X[idx[i:i + bs]], mean, std).contiguous(memory_format=torch.channels_last)
        o = model(x)
        if flip:
            o2 = model(torch.flip(x, [3]))
            o = tuple((a + b) / 2 for a, b in zip(o, o2))
        for k in range(4):
            outs[k].append(o[k].float().numpy())
    return [np.concatenate(o) for o in outs]
