"""Exposure-normalised copies of a test folder (docs/production.md, "A brightness normalisation
before the features: a diagnostic"): every image of both classes is brought to the same key, as a
camera's auto-exposure would, and saved losslessly under the same name with `.png`.

    /usr/bin/python3 tasks/py/exposure_copies.py --src /work/fresh-night --out /work/fresh-night-key

The key is the log-average luminance in linear light (Reinhard's "key" of a scene: the geometric
mean of Rec. 709 luminance, after sRGB decoding). Each image is multiplied in linear light by
0.18 / key (the gain clipped to [1/8, 32], about -3 to +5 stops), clipped to 1, encoded back to
sRGB and rounded to 8 bits. Nothing else changes: size, colour balance and content are kept.
Writes OUT/dataset.csv with the new names; a folder whose dataset.csv exists is left alone.

With `--long-side N` the change is the size instead ("The photographs' size: a diagnostic"): an image
whose long side is over N pixels is reduced to N (Lanczos, aspect kept) and saved losslessly as
above, and nothing else changes; an image no larger is copied byte for byte under its own name.
"""

import argparse
import csv
import os
import shutil

import numpy as np
from PIL import Image

KEY, LOW, HIGH = 0.18, 1 / 8, 32.0


def to_linear(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def to_srgb(v):
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)


def linear_key(lin):
    """The key of linear RGB values: the geometric mean of their Rec. 709 luminance."""
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    return float(np.exp(np.mean(np.log(y + 1e-4))))


def image_key(rgb):
    """The key of 8-bit sRGB pixels."""
    return linear_key(to_linear(rgb.astype(np.float64) / 255))


def normalise(rgb):
    """The image at key 0.18, and the gain applied."""
    lin = to_linear(rgb.astype(np.float64) / 255)
    key = linear_key(lin)
    gain = float(np.clip(KEY / key, LOW, HIGH))
    out = to_srgb(np.clip(lin * gain, 0, 1))
    return np.round(out * 255).astype(np.uint8), gain


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--src", required=True, help="a dataset folder (Name,Label[,Group])")
    a.add_argument("--out", required=True)
    a.add_argument("--long-side", type=int, default=0, help="reduce to this size; no exposure change")
    args = a.parse_args()
    if os.path.exists(f"{args.out}/dataset.csv"):
        print(f"{args.out}/dataset.csv exists: left as it is")
        return
    rows = list(csv.DictReader(open(f"{args.src}/dataset.csv")))
    gains, reduced = {}, {}
    for r in rows:
        src = f"{args.src}/{r['Name']}"
        with Image.open(src) as im:
            if args.long_side and max(im.size) <= args.long_side:
                name, img = r["Name"], None  # copied as it is
            elif args.long_side:
                f = args.long_side / max(im.size)
                size = (max(1, round(im.width * f)), max(1, round(im.height * f)))
                name, img = os.path.splitext(r["Name"])[0] + ".png", im.convert("RGB").resize(
                    size, Image.LANCZOS)
            else:
                name = os.path.splitext(r["Name"])[0] + ".png"
                rgb, gain = normalise(np.asarray(im.convert("RGB")))
                img = Image.fromarray(rgb)
                gains.setdefault(r["Label"], []).append(gain)
        path = f"{args.out}/{name}"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if img is None:
            shutil.copyfile(src, path)
        else:
            img.save(path)
        reduced.setdefault(r["Label"], []).append(img is not None)
        r["Name"] = name
    with open(f"{args.out}/dataset.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    if args.long_side:
        for label, m in sorted(reduced.items()):
            print(f"label {label}: {len(m)} images, {sum(m)} reduced to long side {args.long_side}")
    for label, g in sorted(gains.items()):
        g = np.log2(g)
        print(f"label {label}: {len(g)} images, gain in stops: median {np.median(g):+.2f}, "
              f"range {g.min():+.2f} .. {g.max():+.2f}, clipped {np.mean((g <= -2.999) | (g >= 4.999)):.2f}")


if __name__ == "__main__":
    main()
