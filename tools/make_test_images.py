#!/usr/bin/env python3
"""Create the committed test images in tests/data/.

Copies astronaut.png and chelsea.png unchanged from scikit-image 0.22.0's data
folder (``skimage/data/``, from the installed package or straight from the
wheel with ``--skimage-wheel``) and derives small format/colour-type variants
of astronaut for the image-input tests. See tests/data/README.md.

Needs numpy and Pillow 10.2.0 (the results of the JPEG/WebP/GIF encoders can
differ between Pillow/libjpeg/libwebp versions; the tests only rely on the
properties listed in the README, not on exact bytes).

Usage: python tools/make_test_images.py [--skimage-wheel scikit_image-0.22.0-....whl] [--out tests/data]
"""

import argparse
import hashlib
import io
import os
import struct
import sys
import zipfile
import zlib

import numpy as np
from PIL import Image, ImageOps

SKIMAGE_VERSION = "0.22.0"
# SHA-256 registered in skimage/data/_registry.py (0.22.0)
SOURCES = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "chelsea.png": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
}
VARIANT_SIZE = 256  # derived variants are astronaut downscaled to 256x256 (Lanczos)
EXIF_ORIENTATION = 0x0112


def read_sources(wheel):
    out = {}
    if wheel:
        with zipfile.ZipFile(wheel) as z:
            for name in SOURCES:
                out[name] = z.read("skimage/data/" + name)
    else:
        import skimage

        if skimage.__version__ != SKIMAGE_VERSION:
            raise SystemExit("need scikit-image %s, found %s" % (SKIMAGE_VERSION, skimage.__version__))
        d = os.path.join(os.path.dirname(skimage.__file__), "data")
        for name in SOURCES:
            with open(os.path.join(d, name), "rb") as fh:
                out[name] = fh.read()
    for name, data in out.items():
        h = hashlib.sha256(data).hexdigest()
        if h != SOURCES[name]:
            raise SystemExit("%s: SHA-256 %s != %s" % (name, h, SOURCES[name]))
    return out


def png_rgb16(arr16):
    """Encode an HxWx3 uint16 array as a 16-bit RGB PNG (Pillow cannot write RGB;16)."""
    h, w, c = arr16.shape
    assert c == 3 and arr16.dtype == np.uint16
    raw = arr16.astype(">u2").tobytes()
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(h, w * 6)
    # PNG filter 1 (Sub): byte - byte 6 to the left (one 16-bit RGB pixel), mod 256
    sub = rows.copy()
    sub[:, 6:] = rows[:, 6:] - rows[:, :-6]
    data = np.concatenate([np.ones((h, 1), dtype=np.uint8), sub], axis=1).tobytes()

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b"")


def decode_png_rgb16(data):
    """Minimal decoder for what png_rgb16 writes (filter 1 only); used as a self-check."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
    assert (depth, ctype) == (16, 2)
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * 6)
    assert np.all(rows[:, 0] == 1)
    sub = rows[:, 1:].astype(np.uint32)
    out = np.zeros_like(sub)
    for x in range(0, w * 6, 6):  # undo Sub, pixel column by pixel column
        prev = out[:, x - 6:x] if x else 0
        out[:, x:x + 6] = (sub[:, x:x + 6] + prev) & 0xFF
    return np.frombuffer(out.astype(np.uint8).tobytes(), dtype=">u2").reshape(h, w, 3).astype(np.uint16)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--skimage-wheel", help="read the sources from this scikit-image 0.22.0 wheel instead of the installed package")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data"))
    args = ap.parse_args(argv)
    out = args.out
    os.makedirs(out, exist_ok=True)

    def save_bytes(name, data):
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)

    def encode(img, fmt, **kw):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    src = read_sources(args.skimage_wheel)
    for name, data in src.items():
        save_bytes(name, data)  # unchanged copies

    astro = Image.open(io.BytesIO(src["astronaut.png"])).convert("RGB")
    assert astro.size == (512, 512)
    base = astro.resize((VARIANT_SIZE, VARIANT_SIZE), Image.Resampling.LANCZOS)
    base_arr = np.asarray(base)

    # JPEG, upright
    jpg = encode(base, "JPEG", quality=90, optimize=False, progressive=False)
    save_bytes("astronaut.jpg", jpg)

    # JPEG stored rotated with EXIF Orientation = 6 ("rotate 90 deg clockwise to display"):
    # stored pixels = upright rotated 90 deg counter-clockwise.
    stored = base.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    rot = encode(stored, "JPEG", quality=90, optimize=False, progressive=False, exif=exif.tobytes())
    save_bytes("astronaut_exif_rot.jpg", rot)

    # lossless variants: decode to exactly base's RGB pixels
    save_bytes("astronaut.bmp", encode(base, "BMP"))
    save_bytes("astronaut.webp", encode(base, "WEBP", lossless=True, quality=100, method=6, exact=True))
    rgba = base.copy()
    rgba.putalpha(255)  # fully opaque: RGB after dropping or compositing alpha == base
    save_bytes("astronaut_rgba.png", encode(rgba, "PNG", optimize=True))
    save_bytes("astronaut_16bit.png", png_rgb16(base_arr.astype(np.uint16) * 257))
    save_bytes("astronaut_gray.png", encode(base.convert("L"), "PNG", optimize=True))

    # GIF: 2 frames; frame 0 = astronaut (256-colour median-cut palette, no dither),
    # frame 1 = flat grey (no face) so a decoder that takes the wrong frame finds nothing.
    f0 = base.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    f1 = Image.new("RGB", base.size, (128, 128, 128)).quantize(colors=2, dither=Image.Dither.NONE)
    save_bytes("astronaut.gif", encode(f0, "GIF", save_all=True, append_images=[f1], duration=500, loop=0))

    # broken inputs
    save_bytes("truncated.jpg", jpg[: len(jpg) // 2])
    save_bytes("not_an_image.jpg", b"This is not an image. It is a text file named .jpg for error-handling tests.\n")

    # ---- self-checks ----
    def load(name):
        return Image.open(os.path.join(out, name))

    def mad(a, b):
        return float(np.mean(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))

    for name in ("astronaut.bmp", "astronaut.webp", "astronaut_rgba.png"):
        im = load(name)
        assert np.array_equal(np.asarray(im.convert("RGB")), base_arr), name
        print("%-24s %-5s %s  RGB identical to base" % (name, im.mode, im.size))
    assert load("astronaut_rgba.png").mode == "RGBA"
    a16 = decode_png_rgb16(open(os.path.join(out, "astronaut_16bit.png"), "rb").read())
    assert np.array_equal(a16, base_arr.astype(np.uint16) * 257)
    assert np.array_equal((a16 >> 8).astype(np.uint8), base_arr)
    im16 = load("astronaut_16bit.png")  # Pillow reads 16-bit RGB PNGs reduced to 8 bits
    assert np.array_equal(np.asarray(im16.convert("RGB")), base_arr)
    print("astronaut_16bit.png      16-bit RGB; own decoder == value*257, Pillow 8-bit decode == base")
    g = load("astronaut_gray.png")
    assert g.mode == "L"
    print("astronaut_gray.png       L     %s" % (g.size,))
    up = load("astronaut.jpg")
    r = load("astronaut_exif_rot.jpg")
    assert r.getexif().get(EXIF_ORIENTATION) == 6 and r.size == (VARIANT_SIZE, VARIANT_SIZE)
    t = ImageOps.exif_transpose(r)
    d_ok = mad(t.convert("RGB"), base)
    d_up = mad(up.convert("RGB"), base)
    d_raw = mad(r.convert("RGB"), base)
    d_wrong = mad(r.transpose(Image.Transpose.ROTATE_90).convert("RGB"), base)
    print("astronaut.jpg            mean abs diff vs base %.3f" % d_up)
    print("astronaut_exif_rot.jpg   orientation 6; exif_transpose vs base %.3f, raw %.3f, wrong way %.3f"
          % (d_ok, d_raw, d_wrong))
    assert d_ok < 3.0 and d_raw > 20 and d_wrong > 20
    gif = load("astronaut.gif")
    assert getattr(gif, "n_frames", 1) == 2
    gif.seek(0)
    d_gif = mad(gif.convert("RGB"), base)
    print("astronaut.gif            2 frames, frame 0 mean abs diff vs base %.3f" % d_gif)
    assert d_gif < 6.0
    try:
        Image.open(os.path.join(out, "truncated.jpg")).load()
        raise AssertionError("truncated.jpg decoded")
    except OSError as e:
        print("truncated.jpg            %d of %d bytes; PIL: %s" % (len(jpg) // 2, len(jpg), e))
    total = 0
    for name in sorted(os.listdir(out)):
        p = os.path.join(out, name)
        if os.path.isfile(p) and name != "README.md":
            data = open(p, "rb").read()
            total += len(data)
            print("  %-24s %8d  %s" % (name, len(data), hashlib.sha256(data).hexdigest()))
    print("total %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
