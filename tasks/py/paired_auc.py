"""Two detectors' scores on the same test folder, compared image by image (docs/production.md,
"What the night in training showed"): each one's AUC, and the difference's 95 % interval by a
paired, stratified bootstrap (the same resampled images for both), for the head's p(CG) and the
fused score; with each one's share of photographs and of renders over the head's threshold.

    /usr/bin/python3 tasks/py/paired_auc.py runs/detectors/A-SET runs/detectors/B-SET [--reps 2000]

Reads each folder's results.json (`evaluate --detector ... --test-data ...`); label 0 is a
photograph, any other a render.
"""

import argparse
import json

import numpy as np
from sklearn.metrics import roc_auc_score


def main():
    a = argparse.ArgumentParser()
    a.add_argument("first")
    a.add_argument("second")
    a.add_argument("--reps", type=int, default=2000)
    a.add_argument("--seed", type=int, default=0)
    args = a.parse_args()
    runs = [json.load(open(f"{d}/results.json")) for d in (args.first, args.second)]
    images = [{i["name"]: i for i in r["images"]} for r in runs]
    names = sorted(images[0])
    if sorted(images[1]) != names:
        raise SystemExit("the two evaluations scored different images")
    y = np.array([images[0][n]["label"] > 0 for n in names], dtype=int)
    pos, neg = np.where(y == 1)[0], np.where(y == 0)[0]
    rng = np.random.default_rng(args.seed)
    draws = [np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))] for _ in range(args.reps)]
    for key in ("pCg", "fused"):
        s = [np.array([im[n][key] for n in names], dtype=float) for im in images]
        auc = [roc_auc_score(y, v) for v in s]
        diff = [roc_auc_score(y[i], s[0][i]) - roc_auc_score(y[i], s[1][i]) for i in draws]
        lo, hi = np.percentile(diff, [2.5, 97.5])
        print(f"{key}: {auc[0]:.3f} against {auc[1]:.3f}; difference {auc[0] - auc[1]:+.3f} "
              f"[{lo:+.3f}, {hi:+.3f}] (paired bootstrap, {args.reps} resamples)")
    for d, r, im in zip((args.first, args.second), runs, images):
        t = r["headThreshold"]["value"]
        p = np.array([im[n]["pCg"] for n in names])
        print(f"{d}: over the head's threshold {t:.4f}: photographs {np.mean(p[y == 0] >= t):.3f}, "
              f"renders {np.mean(p[y == 1] >= t):.3f}; median p(CG) photographs "
              f"{np.median(p[y == 0]):.3f}, renders {np.median(p[y == 1]):.3f}")


if __name__ == "__main__":
    main()
