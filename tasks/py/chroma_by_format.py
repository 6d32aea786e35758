"""What `chroma` reads (docs/natural-corpus.md, "What colour did"): the medians, over a LOSO run's
cached chroma vectors, of the median patch's colour detail relative to luminance and channel
correlation (full scale), for the corpus's photographs by stored format and for each render set.

    /usr/bin/python3 tasks/py/chroma_by_format.py --natural runs/natural \\
      --features runs/loso-chroma/features --renders runs/loso-chroma-jpeg90/features
"""

import argparse
import csv
import json
import os

import numpy as np

REL_MEDIAN, RHO_MEDIAN = 2, 3  # full scale: 10 % (rel, rho), 50 % (rel, rho), 90 % ...


def cached(folder, stem):
    m = json.load(open(os.path.join(folder, stem + ".json")))
    x = np.fromfile(os.path.join(folder, stem + ".bin"), dtype=np.float32).reshape(-1, 12)
    return [n.removesuffix("#0") for n in m["names"]], x


def line(label, x):
    print(f"{label}: {len(x)} images, colour detail {np.median(x[:, REL_MEDIAN]):.2f}, "
          f"correlation {np.median(x[:, RHO_MEDIAN]):.2f}")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--natural", required=True, help="the corpus (its SOURCES.csv)")
    a.add_argument("--features", required=True, help="a features folder with natural-chroma")
    a.add_argument("--renders", action="append", default=[],
                   help="more features folders with renders-chroma (e.g. the JPEG renders')")
    o = a.parse_args()
    with open(os.path.join(o.natural, "SOURCES.csv"), newline="") as f:
        fmt = {r["Name"]: r["Format"] for r in csv.DictReader(f)}
    names, x = cached(o.features, "natural-chroma")
    kinds = np.array([fmt[n] for n in names])
    for k in sorted(set(kinds), key=lambda k: -np.sum(kinds == k)):
        line(f"photographs, {k}", x[kinds == k])
    for folder in [o.features, *o.renders]:
        line(f"renders of {folder}", cached(folder, "renders-chroma")[1])


if __name__ == "__main__":
    main()
