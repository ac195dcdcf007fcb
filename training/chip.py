"""The classifier's input chip: dlib's face chip widened on every side.

dlib's ResNet reads its 150 px chip (padding 0.25) exactly; HSE's MobileNet
(`faceres`) tells gender better with more hair and chin in view, so the chip
the SDK aligns to is that geometry plus MARGIN pixels each side (padding
0.25 + MARGIN / 100 = 0.43 in dlib's units: dlib maps the mean face to
((m + p) / (1 + 2p)) * size, and 150 px at padding 0.25 is 100 px per unit).
The backbones cut dlib's chip back out of the middle (the same warp, shifted by
whole pixels: within one grey level of aligning to dlib's chip directly).

    python -m training.chip --template training/out/descriptor_template.json --out training/out/input_template.json
"""
import argparse
import json

CHIP = 150  # dlib's face chip, the descriptor template's geometry
MARGIN = 18
INPUT = CHIP + 2 * MARGIN


def widen(alignment):
    """The descriptor template's alignment block moved into the INPUT chip."""
    out = dict(alignment)
    out["chip_size"] = [INPUT, INPUT]
    out["landmarks"] = [[round(x + MARGIN, 3), round(y + MARGIN, 3)] for x, y in alignment["landmarks"]]
    out["method"] = (f"{alignment['method']}; widened by {MARGIN} px on every side "
                     f"(training/chip.py: dlib's chip is the central {CHIP} px)")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default="training/out/descriptor_template.json")
    ap.add_argument("--out", default="training/out/input_template.json")
    a = ap.parse_args(argv)
    with open(a.template) as f:
        alignment = json.load(f)["alignment"]
    with open(a.out, "w") as f:
        json.dump({"alignment": widen(alignment)}, f, indent=2)
        f.write("\n")
    print(f"[chip] wrote {a.out}: {INPUT} px, dlib's {CHIP} px chip at offset {MARGIN}")


if __name__ == "__main__":
    main()
