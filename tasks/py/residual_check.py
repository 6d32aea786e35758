"""The check that chose version 3 of the residual features (docs/results-cgbench.md): for each
variant in the JSON files of tasks/residual_variants.ts, a Ledoit-Wolf Gaussian (scikit-learn) on
standardised features of 70 % of the photographs, 3 random splits (seeds 100-102, not the matrix's
0-2), scored on the other photographs and on every render; threshold: the 95 % quantile of 5-fold
out-of-fold scores (version 5's 1184 numbers: one Gaussian for the co-occurrences and one for the
slopes, as the toolkit fits them; see `fit`). Prints mean AUC per renderer, NI recall, and the Kodak check (photographs whose
SOURCES.csv source names Kodak: never JPEG before the re-encoding).

  /usr/bin/python3 tasks/py/residual_check.py SOURCES.csv FEATURES.json [FEATURES.json ...]
"""
import csv
import json
import sys

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score


def fit(X, parts=None, model="gauss"):
    """The Gaussian's squared Mahalanobis distance, fitted on X (`model` "knn": the mean
    Euclidean distance to the 5 nearest standardised training vectors, as knn.ts); with `parts`
    (sizes of consecutive column ranges), one model per part and the largest of each part's
    distance over the 95 % quantile of its out-of-fold distances, as GaussOptions.parts in
    gauss.ts."""
    if parts:
        cuts = np.cumsum([0] + list(parts))
        ranges = list(zip(cuts[:-1], cuts[1:]))
        fs = [fit(X[:, a:b], None, model) for a, b in ranges]
        scales = [np.quantile(out_of_fold(X[:, a:b], None, model), 0.95) for a, b in ranges]
        return lambda Y: np.max([f(Y[:, a:b]) / q for f, q, (a, b) in zip(fs, scales, ranges)], 0)
    mu, sd = X.mean(0), X.std(0) + 1e-6
    if model == "knn":
        train = (X - mu) / sd

        def knn(Y):
            dist = np.sqrt(((((Y - mu) / sd)[:, None] - train[None]) ** 2).sum(-1))
            return np.sort(dist, 1)[:, :5].mean(1)

        return knn
    lw = LedoitWolf().fit((X - mu) / sd)

    def score(Y):
        Z = (Y - mu) / sd - lw.location_
        return np.einsum("ij,jk,ik->i", Z, lw.precision_, Z)

    return score


def out_of_fold(X, parts=None, model="gauss", folds=5):
    idx = np.random.default_rng(0).permutation(len(X))
    s = np.empty(len(X))
    for f in range(folds):
        te = idx[f::folds]
        s[te] = fit(X[np.setdiff1d(idx, te)], parts, model)(X[te])
    return s


def cv_threshold(X, parts=None, model="gauss", nu=0.05):
    return np.quantile(out_of_fold(X, parts, model), 1 - nu)


def auc(natural_scores, cg_scores):
    return roc_auc_score([0] * len(natural_scores) + [1] * len(cg_scores),
                         np.r_[natural_scores, cg_scores])


def split_check(X, y, classes, seed, parts=None, model="gauss"):
    """One random 70/30 split of the photographs (label 0) by `seed`: the Gaussian fitted on the
    70 %, its cross-validated threshold, the test photographs' indices and scores, and the AUC of
    each renderer's images against those test photographs."""
    p = np.random.default_rng(seed).permutation(np.where(y == 0)[0])
    train, test = p[: int(0.7 * len(p))], p[int(0.7 * len(p)):]
    f, t = fit(X[train], parts, model), cv_threshold(X[train], parts, model)
    st = f(X[test])
    return f, t, test, st, {c: auc(st, f(X[y == c])) for c in classes}


def main(sources, files):
    kodak_names = {r["Name"] for r in csv.DictReader(open(sources)) if "Kodak" in r["source"]}
    data = [json.load(open(f)) for f in files]
    labels = data[0]["labels"]
    classes = {c["label"]: c["name"] for c in data[0]["classes"] if c["label"] > 0}
    for d in data:
        for variant, feats in d["res"].items():
            names = list(feats)
            X, y = np.array([feats[n] for n in names]), np.array([labels[n] for n in names])
            kodak = np.array([n in kodak_names for n in names])
            # version 5 (1184 numbers): a Gaussian for the co-occurrences, one for the slopes
            parts = [1176, 8] if X.shape[1] == 1184 else None
            aucs = {c: [] for c in classes}
            inside, k_in, k_auc, o_auc = [], [], [], []
            for seed in range(3):
                f, t, test, st, per = split_check(X, y, classes, 100 + seed, parts)
                inside.append((st <= t).mean())
                for c in classes:
                    aucs[c].append(per[c])
                cg = f(X[y > 0])
                tk, to = test[kodak[test]], test[~kodak[test]]
                k_in += list(f(X[tk]) <= t)
                k_auc.append(auc(f(X[tk]), cg))
                o_auc.append(auc(f(X[to]), cg))
            means = [np.mean(a) for a in aucs.values()]
            print(f"{variant:11s} " + " ".join(f"{classes[c]} {m:.3f}" for c, m in zip(aucs, means))
                  + f" mean {np.mean(means):.3f} NI {np.mean(inside):.3f} | Kodak inside"
                  f" {sum(k_in)}/{len(k_in)}, renders vs Kodak {np.mean(k_auc):.3f},"
                  f" vs the other photographs {np.mean(o_auc):.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
