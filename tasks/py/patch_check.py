"""A model of profile's patches under leave-one-source-out (docs/natural-corpus.md, "Patches, not
their quantiles"; the rule there was written before this ran). Reads the patch tables of
tasks/patch_tables.ts and the baseline's cached profile vectors; for each photograph source of at
least 10, fits on the others and prints recall and AUC against each set of renders, for the
baseline (the Gaussian on the profile vectors) and for the patch mixture pooled by mean and by 90 %
quantile, every model with the same folds of whole sources for its threshold.

    /usr/bin/python3 tasks/py/patch_check.py --tables runs/patch-check \\
      --profile runs/loso-profile-v2/features --renders renders:runs/loso-profile-v2/features \\
      --renders renders-jpeg90:runs/loso-chroma-jpeg90/features [--out runs/patch-check/results.json] [--workers 2]
    /usr/bin/python3 tasks/py/patch_check.py --load runs/patch-check/results.json
"""

import argparse
import csv
import json
import multiprocessing
import os
import sys

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture

FIT_PATCHES, SCORE_PATCHES, COMPONENTS, FOLDS, NU, MIN_IMAGES = 64, 256, 8, 5, 0.05, 10


def tables(stem):
    """Per image (in index order): name, label, group, and per scale its patches (n x 5)."""
    x = np.fromfile(stem + ".bin", dtype=np.float32).reshape(-1, 5)
    images = {}
    with open(stem + ".csv", newline="") as f:
        for r in csv.DictReader(f):
            im = images.setdefault(r["name"], {"name": r["name"], "label": int(r["label"]),
                                               "group": r["group"], "scales": {}})
            a = int(r["first"])
            im["scales"][int(r["scale"])] = x[a:a + int(r["patches"])]
    return list(images.values())


def profile_vectors(folder, stem):
    """A cached feature list: names (less '#0') and vectors."""
    m = json.load(open(os.path.join(folder, stem + ".json")))
    d = m["weightsManifest"][0]["weights"][0]["shape"]
    x = np.fromfile(os.path.join(folder, stem + ".bin"), dtype=np.float32).reshape(d)
    return {n.removesuffix("#0"): x[i].astype(np.float64) for i, n in enumerate(m["names"])}


def draws(images, seed):
    """Each image's patches to fit on (at most FIT_PATCHES) and to score (at most SCORE_PATCHES)."""
    rng = np.random.default_rng(seed)
    for im in images:
        im["fit"], im["score"] = {}, {}
        for s, p in im["scales"].items():
            im["fit"][s] = p[rng.permutation(len(p))[:FIT_PATCHES]]
            im["score"][s] = p[rng.permutation(len(p))[:SCORE_PATCHES]]


class PatchModel:
    """Per scale a Gaussian mixture of the fit patches; scores pooled per image."""

    def __init__(self, images):
        self.gmm = {}
        for s in images[0]["scales"]:
            x = np.concatenate([im["fit"][s] for im in images]).astype(np.float64)
            self.gmm[s] = GaussianMixture(COMPONENTS, covariance_type="full", reg_covar=1e-3,
                                          random_state=0).fit(x)

    def score(self, images):
        """{pooling: scores}: the sum over scales of the pooled −log p of each image's patches."""
        out = {"mean": np.zeros(len(images)), "q90": np.zeros(len(images))}
        for s, g in self.gmm.items():
            x = np.concatenate([im["score"][s] for im in images]).astype(np.float64)
            nll = -g.score_samples(x)
            ends = np.cumsum([len(im["score"][s]) for im in images])
            for i, part in enumerate(np.split(nll, ends[:-1])):
                out["mean"][i] += part.mean()
                out["q90"][i] += np.quantile(part, 0.9)
        return out


class Gauss:
    """The baseline: standardised profile vectors, a Ledoit–Wolf Gaussian, Mahalanobis distance."""

    def __init__(self, images):
        x = np.stack([im["profile"] for im in images])
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-12
        z = (x - self.mu) / self.sd
        lw = LedoitWolf().fit(z)
        self.loc, self.prec = lw.location_, lw.precision_

    def score(self, images):
        z = (np.stack([im["profile"] for im in images]) - self.mu) / self.sd - self.loc
        return {"gauss": np.einsum("ij,jk,ik->i", z, self.prec, z)}


STATE = {}  # natural, renders and model of the running loso, read by the forked workers


def held_out(hold):
    """One held-out source's row (see loso)."""
    natural, renders, model = STATE["natural"], STATE["renders"], STATE["model"]
    train = [im for im in natural if im["group"] != hold]
    held = [im for im in natural if im["group"] == hold]
    others = sorted({im["group"] for im in train})
    order = np.random.default_rng(0).permutation(len(others))
    fold = {others[j]: i % FOLDS for i, j in enumerate(order)}
    oof = None
    for f in range(FOLDS):
        part = [im for im in train if fold[im["group"]] == f]
        s = model([im for im in train if fold[im["group"]] != f]).score(part)
        oof = {k: (oof[k] if oof else []) + list(v) for k, v in s.items()}
    m = model(train)
    photo = m.score(held)
    row = {"source": hold, "photographs": len(held)}
    for k in photo:
        row[k] = {"recall": float(np.mean(photo[k] <= np.quantile(oof[k], 1 - NU))), "auc": {}}
    for name, ren in renders.items():
        r = m.score(ren)
        for k in photo:
            t = np.quantile(oof[k], 1 - NU)
            auc = {}
            for renderer in sorted({im["group"] for im in ren}):
                mine = r[k][[im["group"] == renderer for im in ren]]
                y = np.r_[np.zeros(len(held)), np.ones(len(mine))]
                auc[renderer] = float(roc_auc_score(y, np.r_[photo[k], mine]))
                auc[renderer + " CG"] = float(np.mean(mine > t))
            row[k]["auc"][name] = auc
    print(hold, {k: round(row[k]["recall"], 3) for k in photo}, file=sys.stderr, flush=True)
    return row


def loso(natural, renders, model, workers):
    """Per held-out source of at least MIN_IMAGES: recall, and AUC and the share over the
    threshold per render set and renderer, for each of model's scores. The folds of the threshold
    are whole training sources, drawn with seed 0."""
    groups = sorted({im["group"] for im in natural})
    big = [g for g in groups if sum(im["group"] == g for im in natural) >= MIN_IMAGES]
    STATE.update(natural=natural, renders=renders, model=model)
    if workers < 2:
        return [held_out(g) for g in big]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(held_out, big, chunksize=1)


def summary(rows, key, render_set):
    rec = [r[key]["recall"] for r in rows]
    aucs = [np.mean([v for n, v in r[key]["auc"][render_set].items() if not n.endswith(" CG")])
            for r in rows]
    names = [n for n in rows[0][key]["auc"][render_set] if not n.endswith(" CG")]
    per = " / ".join(f"{np.mean([r[key]['auc'][render_set][n] for r in rows]):.3f}" for n in names)
    cg = " / ".join(f"{np.mean([r[key]['auc'][render_set][n + ' CG'] for r in rows]):.3f}"
                    for n in names)
    return np.mean(rec), min(rec), np.mean(aucs), per, cg


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--tables")
    a.add_argument("--profile", help="the baseline's features folder")
    a.add_argument("--renders", action="append",
                   help="STEM:FEATURES (patch tables STEM.*, profile vectors in FEATURES)")
    a.add_argument("--out")
    a.add_argument("--workers", type=int, default=2)
    a.add_argument("--load", help="print the tables of an earlier run's --out instead of running")
    o = a.parse_args()
    if o.load:
        report(json.load(open(o.load)))
        return
    if not (o.tables and o.profile and o.renders):
        a.error("give --tables, --profile and --renders (or --load)")
    natural = tables(os.path.join(o.tables, "natural"))
    pv = profile_vectors(o.profile, "natural-profile")
    for im in natural:
        im["profile"] = pv[im["name"]]
    renders = {}
    for spec in o.renders:
        stem, feats = spec.split(":")
        ren = tables(os.path.join(o.tables, stem))
        rv = profile_vectors(feats, "renders-profile")
        for im in ren:
            im["profile"] = rv[im["name"]]
            im["group"] = im["name"].split("/")[0]  # the renderer
        renders[stem] = ren
    draws(natural, 0)
    for ren in renders.values():
        draws(ren, 0)
    out = {"baseline": loso(natural, renders, Gauss, o.workers),
           "patches": loso(natural, renders, PatchModel, o.workers)}
    if o.out:
        json.dump(out, open(o.out, "w"), indent=1)
    report(out)


def report(out):
    """The summary table, then each pooling's AUC change against the baseline, source by source."""
    render_sets = list(out["baseline"][0]["gauss"]["auc"])
    print("| model | renders | recall mean | recall worst | AUC mean | AUC per renderer | "
          "renders over the threshold |")
    print("| --- | --- | ---: | ---: | ---: | --- | --- |")
    for which, key in (("baseline", "gauss"), ("patches", "mean"), ("patches", "q90")):
        for rs in render_sets:
            m, w, auc, per, cg = summary(out[which], key, rs)
            print(f"| {which} {key} | {rs} | {m:.3f} | {w:.3f} | {auc:.3f} | {per} | {cg} |")
    base = {r["source"]: r["gauss"] for r in out["baseline"]}

    def mean_auc(cell, rs):
        return np.mean([v for n, v in cell["auc"][rs].items() if not n.endswith(" CG")])

    for key in ("mean", "q90"):
        change = sorted((mean_auc(r[key], render_sets[0]) - mean_auc(base[r["source"]],
                                                                       render_sets[0]), r["source"])
                        for r in out["patches"])
        up = sum(c > 0 for c, _ in change)
        print(f"\n{key}: AUC against {render_sets[0]} up on {up} of {len(change)} sources; "
              "lowest " + ", ".join(f"{n} {c:+.3f}" for c, n in change[:3]) +
              "; highest " + ", ".join(f"{n} {c:+.3f}" for c, n in change[-3:]))


if __name__ == "__main__":
    main()
