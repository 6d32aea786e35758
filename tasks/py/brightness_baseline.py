"""How far brightness alone explains a night test (docs/production.md, "Is it the night, or the
dark?"): each image's key (the log-average luminance in linear light, as exposure_copies.py
measures it, on a copy at most 512 px on its long side), the AUC of darkness alone (minus the key) as a score, and for each evaluation given,
Spearman's correlation of the head's p(CG) with the key among the photographs and among the
renders. Given two evaluations (first the detector with night in training), also the photographs'
change in p(CG) from the second to the first against their key: a head that learnt "dark means
rendered" raises the dark photographs most. Last, each evaluation's head AUC against each
photograph source with ten photographs or more on its own (the test folder's Group column), to
tell the dark from the unseen camera.

    /usr/bin/python3 tasks/py/brightness_baseline.py runs/detectors/A-SET [runs/detectors/B-SET]

Reads each folder's results.json (`evaluate --detector ... --test-data ...`); the images are read
from the test folder it names. Label 0 is a photograph, any other a render.
"""

import argparse
import csv
import json
import os
import re

import numpy as np
from PIL import Image
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from exposure_copies import image_key


def key(path):
    """The image's key as exposure_copies.py measures it, on a copy at most 512 px on its long
    side (the mean of logs barely depends on the size, and a 24-megapixel original is read fast)."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    rgb.thumbnail((512, 512))
    return image_key(np.asarray(rgb))


def main():
    a = argparse.ArgumentParser()
    a.add_argument("runs", nargs="+")
    args = a.parse_args()
    runs = [json.load(open(f"{d}/results.json")) for d in args.runs]
    folder = re.match(r"dataset (\S+)", runs[0]["testSet"]).group(1)
    images = [{i["name"]: i for i in r["images"]} for r in runs]
    names = sorted(images[0])
    y = np.array([images[0][n]["label"] > 0 for n in names])
    k = np.array([key(os.path.join(folder, n)) for n in names])
    print(f"{folder}: {int((~y).sum())} photographs, {int(y.sum())} renders")
    for cls, m in (("photographs", ~y), ("renders", y)):
        q = np.percentile(k[m], [0, 10, 50, 90, 100])
        print(f"  key of the {cls}: min {q[0]:.4f}, 10% {q[1]:.4f}, median {q[2]:.4f}, "
              f"90% {q[3]:.4f}, max {q[4]:.4f}")
    print(f"  darkness alone (minus the key) as a score: AUC {roc_auc_score(y, -k):.3f}")
    print(f"  renders darker than the darkest photograph: {np.mean(k[y] < k[~y].min()):.2f}")
    for d, im in zip(args.runs, images):
        p = np.array([im[n]["pCg"] for n in names])
        rp, rr = spearmanr(p[~y], k[~y])[0], spearmanr(p[y], k[y])[0]
        print(f"  {os.path.basename(d)}: head AUC {roc_auc_score(y, p):.3f}; Spearman of p(CG) "
              f"with the key: photographs {rp:+.2f}, renders {rr:+.2f}")
    if len(images) == 2:
        p = [np.array([im[n]["pCg"] for n in names]) for im in images]
        dp = p[0] - p[1]
        r = spearmanr(dp[~y], k[~y])[0]
        dark = ~y & (k <= np.percentile(k[~y], 25))
        light = ~y & (k > np.percentile(k[~y], 25))
        print(f"  photographs' change in p(CG), first minus second: Spearman with the key {r:+.2f}; "
              f"mean {dp[dark].mean():+.3f} on the darkest quarter, {dp[light].mean():+.3f} on "
              f"the rest")
    group = {r["Name"]: r.get("Group", "") for r in csv.DictReader(open(f"{folder}/dataset.csv"))}
    source = np.array([group.get(n, "") for n in names])
    for s in sorted(set(source[~y])):
        m = y | (source == s)
        if (~y & m).sum() < 10:
            continue
        aucs = ", ".join(
            f"{os.path.basename(d)} {roc_auc_score(y[m], np.array([im[n]['pCg'] for n in names])[m]):.3f}"
            for d, im in zip(args.runs, images))
        print(f"  head AUC against the {int((~y & m).sum())} photographs of {s} alone: {aucs}")


if __name__ == "__main__":
    main()
