"""What real photos do to a face, applied to an aligned uint8 chip (PIL + numpy).

Each call draws one to three of: blur, downscaling, JPEG artefacts, a colour
cast, grayscale, sensor noise, a small rotation / shift / zoom (mis-alignment),
a partial occlusion, a change of brightness and contrast. Deterministic for a
given numpy Generator. Pixel sizes are set for dlib's 150 px chip and scale with
the chip's width, so that a wider chip is degraded alike.
"""
import io

import numpy as np
from PIL import Image, ImageFilter

from training.chip import CHIP


def _blur(img, rng):
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 2.2) * img.size[0] / CHIP))


def _downscale(img, rng):
    side = int(rng.integers(24, 72) * img.size[0] / CHIP)
    return img.resize((side, side), Image.BILINEAR).resize(img.size, Image.BILINEAR)


def _jpeg(img, rng):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(12, 55)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _colour_cast(img, rng):
    a = np.asarray(img, np.float32) * rng.uniform(0.75, 1.25, size=3)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _grayscale(img, rng):
    return img.convert("L").convert("RGB")


def _noise(img, rng):
    a = np.asarray(img, np.float32) + rng.normal(0, rng.uniform(3, 12), size=(img.size[1], img.size[0], 3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _misalign(img, rng):
    w, h = img.size
    angle = rng.uniform(-12, 12)
    zoom = rng.uniform(0.9, 1.1)
    dx, dy = rng.uniform(-0.05, 0.05, size=2) * w
    return img.rotate(angle, Image.BILINEAR, translate=(dx, dy), fillcolor=None).resize(
        (int(w * zoom), int(h * zoom)), Image.BILINEAR).crop(
        (int((w * zoom - w) / 2), int((h * zoom - h) / 2), int((w * zoom - w) / 2) + w, int((h * zoom - h) / 2) + h))


def _occlude(img, rng):
    a = np.asarray(img).copy()
    h, w = a.shape[:2]
    ow, oh = int(w * rng.uniform(0.2, 0.45)), int(h * rng.uniform(0.15, 0.35))
    x, y = int(rng.integers(0, w - ow)), int(rng.integers(0, h - oh))
    a[y:y + oh, x:x + ow] = rng.integers(0, 256, size=3)
    return Image.fromarray(a)


def _light(img, rng):
    a = np.asarray(img, np.float32)
    m = a.mean()
    a = (a - m) * rng.uniform(0.6, 1.3) + m * rng.uniform(0.6, 1.4)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


DEGRADATIONS = [_blur, _downscale, _jpeg, _colour_cast, _grayscale, _noise, _misalign, _occlude, _light]


def degrade(chip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = Image.fromarray(chip)
    for k in rng.choice(len(DEGRADATIONS), size=int(rng.integers(1, 4)), replace=False):
        img = DEGRADATIONS[k](img, rng)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return np.asarray(img.convert("RGB"), np.uint8)
