#!/usr/bin/env python3
"""Fixtures for tests/formats.rs: images in colour formats PIL reads, and
what PIL makes of them, so the Rust tests check parity without Pillow.

Writes into tests/fixtures/formats/ (all synthetic: gradients and seeded
noise, no photographs):

- rgb16.png, rgba16.png: 16-bit-per-channel PNGs with random samples (written
  by hand: Pillow cannot write RGB;16), and rgb16.pil.png, rgba16.pil.png:
  PIL's Image.open(...).convert("RGB"), i.e. the high byte of each sample.
- cmyk_pillow.jpg: a CMYK JPEG as Pillow writes it (Adobe inverted
  polarity), and cmyk_pillow.pil.png: PIL's RGB of it.
- For every *.jpg already in the folder that has no .pil.png (cmyk.jpg and
  ycck.jpg, written by `FACELESS_WRITE_FIXTURES=tests/fixtures/formats cargo
  test --release --test formats` with libjpeg's own CMYK and YCCK
  encoders): its .pil.png.

Usage: python tools/make_format_fixtures.py  (needs numpy and Pillow;
made with numpy 2.x and Pillow 13.0.0)
"""
import pathlib
import struct
import zlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/formats"


def png16(path, samples, color_type):
    """Writes a 16-bit PNG (color_type 2 = RGB, 6 = RGBA), filter None."""
    h, w, _ = samples.shape
    raw = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pil_rgb(src):
    with Image.open(src) as im:
        im.convert("RGB").save(src.with_suffix(".pil.png"))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    for name, channels, ct in [("rgb16", 3, 2), ("rgba16", 4, 6)]:
        s = rng.integers(0, 65536, size=(24, 32, channels), dtype=np.uint32)
        png16(OUT / f"{name}.png", s, ct)
        pil_rgb(OUT / f"{name}.png")
    # CMYK as Pillow writes it: ink gradients plus noise.
    y, x = np.mgrid[0:48, 0:64]
    cmyk = np.stack([x * 4, y * 5, (x + y) * 2, (x * y) % 256], axis=-1)
    cmyk = np.clip(cmyk + rng.integers(0, 16, cmyk.shape), 0, 255).astype(np.uint8)
    Image.fromarray(cmyk, "CMYK").save(OUT / "cmyk_pillow.jpg", quality=90)
    pil_rgb(OUT / "cmyk_pillow.jpg")
    for jpg in sorted(OUT.glob("*.jpg")):
        if not jpg.with_suffix(".pil.png").exists():
            pil_rgb(jpg)
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
