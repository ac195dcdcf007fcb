"""Training-throughput measurement used to pick the input size and width (random data, 2 threads).

    python -m training.bench
"""
import time

import torch

from .model import FaceAttributes

CONFIGS = [  # (input S, layout, widths)
    (64, "shared", (32, 64, 128, 192)),
    (80, "shared", (32, 64, 128, 192)),
    (96, "shared", (32, 64, 128, 192)),
    (64, "legs", (32, 64, 128, 192)),
    (64, "shared", (24, 48, 96, 192)),
]


def main():
    torch.set_num_threads(2)
    for s, layout, widths in CONFIGS:
        m = FaceAttributes(layout, widths).to(memory_format=torch.channels_last)
        x = torch.randn(128, 3, s, s).contiguous(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(m.parameters(), 1e-3)
        for i in range(4):
            if i == 1:
                t = time.time()
            loss = sum(o.float().mean() for o in m(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
        ips = 128 * 3 / (time.time() - t)
        n = sum(p.numel() for p in m.parameters())
        print(f"S={s} {layout} widths={widths} params={n / 1e6:.2f}M train {ips:.0f} img/s "
              f"-> {15000 / ips:.0f} s per 15k-image epoch", flush=True)


if __name__ == "__main__":
    main()
