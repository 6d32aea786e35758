"""The supervised head against the one-class stage on a renderer no stage saw, under leave one
photograph source out and leave one renderer out at once (docs/natural-corpus.md, "A head held out
by source and by renderer"; a diagnostic: measured, not a selection).

For each held-out renderer R (a label of the renders' dataset.csv) and each held-out photograph
source S (a Group of the natural dataset.csv with at least --min-images photographs):

- one-class stage: the toolkit's `gauss` on standardised features (Ledoit-Wolf, squared
  Mahalanobis distance), fitted on every photograph but S's; its threshold the (1 - nu) quantile
  of out-of-fold distances, five folds of whole sources (`loso --threshold cv-source`);
- head: L2 logistic regression (standardised, C = --c, classes balanced; `--kind rbf`: the
  RBF-kernel SVM of generator_curve.py, C = 1) on every list given (the one-class stage on those
  of `--oneclass-lists`),
  fitted on every photograph but S's against the renders of every renderer but R, each render in
  every set of renders given (as they are, as JPEG 90, saved seven ways: the same render in three
  forms, so that a JPEG history alone does not tell the classes apart; the forms of one render
  stay in one fold; `--train-forms 1`: the first set only, to measure that shortcut); p(CG) the logistic of its decision, its threshold the (1 - nu) quantile of
  the training photographs' out-of-fold p(CG) (five folds of whole sources);
- the verdict rules as lib/detect/detector.ts gives them (`head`, `oneclass`, `both`, `fused`:
  Fisher's combination of the two stages' upper-tail p-values among those out-of-fold references).

S's photographs and R's renders in each set are counted; nothing of S or R is in any fit or
threshold. Prints, per held-out renderer: the AUC of each stage's score (and of the fused
statistic) against each set of R's renders, and under each rule the share of S's photographs
called natural (mean over sources, worst) and unsure, and the share of R's renders called
computer-generated in each set (mean over sources).

    /usr/bin/python3 tasks/py/loro_head.py --natural runs/natural/dataset.csv \\
      --natural-features runs/loso-profile-v2/features/natural-profile \\
      --renders ../shared/data/cgbench:runs/loso-profile-v2/features/renders-profile \\
      --renders /work/cgbench-jpeg90:runs/loso-profile-v2-jpeg90/features/renders-profile \\
      --renders /work/cgbench-mixed:runs/loso-profile-v2-mixed/features/renders-profile

Needs Debian's python3-sklearn.
"""

import argparse
import csv
import os

import numpy as np
from sklearn.metrics import roc_auc_score

from verdict_linear_head import FISHER95, Gauss, linear_head, load, tail, verdicts


def cached(prefixes):
    """Cached feature lists by their paths without extension, comma-separated: {image name:
    [vector of each list]} over the names every list holds."""
    lists = [load(os.path.dirname(p), os.path.basename(p)) for p in prefixes.split(",")]
    names = set.intersection(*(set(x) for x in lists))
    return {n: [x[n] for x in lists] for n in names}


def side_by_side(vectors, which):
    """The lists numbered `which` of one image's vectors, side by side."""
    return np.concatenate([vectors[i] for i in which])


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def renderer_of(name):
    """The renderer folder of a render's name (`Cycles/cycles_00000.png` -> `Cycles`)."""
    return name.split("/")[0]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--natural", required=True, help="the corpus's dataset.csv (Name,Label,Group)")
    a.add_argument("--natural-features", required=True,
                   help="its cached lists (no extension; several, comma-separated: side by side)")
    a.add_argument("--renders", action="append", required=True,
                   help="DATASET_FOLDER:CACHED_LIST[,LIST], once per set of the same renders")
    a.add_argument("--oneclass-lists", default="",
                   help="the lists (0-based, comma-separated) the one-class stage reads; the head "
                   "reads them all (default: the one-class stage reads them all too)")
    a.add_argument("--kind", default="linear", choices=["linear", "rbf"],
                   help="the head: logistic regression, or the RBF-kernel SVM (C = 1) of "
                   "generator_curve.py")
    a.add_argument("--train-forms", type=int, default=0,
                   help="train the head on the first K sets only (default: all of them)")
    a.add_argument("--c", type=float, default=0.1)
    a.add_argument("--min-images", type=int, default=10)
    o = a.parse_args()

    nat = [r for r in rows(o.natural) if r["Label"] == "0"]
    nf = cached(o.natural_features)
    every = list(range(len(next(iter(nf.values())))))
    mine = [int(i) for i in o.oneclass_lists.split(",")] if o.oneclass_lists else every
    xn = np.stack([side_by_side(nf[r["Name"]], every) for r in nat])
    xo = np.stack([side_by_side(nf[r["Name"]], mine) for r in nat])
    groups = np.array([r["Group"] for r in nat])
    # each set: {render stem: (renderer, vector)}; a render is its name without extension
    sets = []
    for spec in o.renders:
        folder, prefix = spec.rsplit(":", 1)
        f = cached(prefix)
        sets.append({
            os.path.splitext(r["Name"])[0]: (renderer_of(r["Name"]), side_by_side(f[r["Name"]], every),
                                             side_by_side(f[r["Name"]], mine))
            for r in rows(os.path.join(folder, "dataset.csv")) if r["Label"] != "0"
        })
    stems = sorted(set.intersection(*(set(s) for s in sets)))
    renderers = sorted({sets[0][k][0] for k in stems})
    big = sorted(g for g in set(groups) if np.sum(groups == g) >= o.min_images)
    print(f"{len(xn)} photographs of {len(set(groups))} sources ({len(big)} held out); "
          f"{len(stems)} renders in {len(sets)} sets; renderers {', '.join(renderers)}")
    rules = ["head", "oneclass", "both", "fused"]
    summary = []
    # each held-out source's one-class model, the same whichever renderer is held out
    ocs = {s: Gauss(xo[groups != s], list(groups[groups != s])) for s in big}
    for held_r in renderers:
        train_stems = [k for k in stems if sets[0][k][0] != held_r]
        test_stems = [k for k in stems if sets[0][k][0] == held_r]
        forms = sets[:o.train_forms] if o.train_forms else sets
        xr = np.stack([s[k][1] for s in forms for k in train_stems])
        rgroups = np.array([f"render:{k}" for _ in forms for k in train_stems])
        acc = {"auc": {st: [[] for _ in sets] for st in ["head", "oneclass", "fused"]},
               "nat": {r: [] for r in rules}, "uns": {r: [] for r in rules},
               "cg": {r: [[] for _ in sets] for r in rules}}
        for s in big:
            fit = groups != s
            oc = ocs[s]
            x = np.concatenate([xn[fit], xr])
            y = np.concatenate([np.zeros(fit.sum()), np.ones(len(xr))])
            head, t, href = linear_head(x, y, np.concatenate([groups[fit], rgroups]), o.c, kind=o.kind)
            held, held_o = xn[~fit], xo[~fit]

            def judge(v, vo):
                p, sc = head(v), oc.score(vo)
                fused = -2 * (np.log(tail(href, p)) + np.log(tail(oc.reference, sc))) - FISHER95
                return p, sc, fused, verdicts(p, t, href, sc, oc.threshold, oc.reference)

            hp, hs, hf, hv = judge(held, held_o)
            for r in rules:
                acc["nat"][r].append(np.mean(hv[r] == 0))
                acc["uns"][r].append(np.mean(hv[r] == -1))
            for i, st in enumerate(sets):
                rp, rs, rf, rv = judge(np.stack([st[k][1] for k in test_stems]),
                                       np.stack([st[k][2] for k in test_stems]))
                yy = np.concatenate([np.zeros(len(held)), np.ones(len(test_stems))])
                for name, a_, b_ in [("head", hp, rp), ("oneclass", hs, rs), ("fused", hf, rf)]:
                    acc["auc"][name][i].append(roc_auc_score(yy, np.concatenate([a_, b_])))
                for r in rules:
                    acc["cg"][r][i].append(np.mean(rv[r] == 1))
        print(f"\nheld-out renderer {held_r} ({len(test_stems)} renders; the head trained on "
              f"{len(train_stems)} renders of the others, in {len(forms)} form(s) each)")
        print("| stage | AUC per set of renders (mean over held-out sources) |")
        print("| --- | --- |")
        for st, v in acc["auc"].items():
            print(f"| {st} | " + " / ".join(f"{np.mean(x):.3f}" for x in v) + " |")
        print("| rule | photos natural mean (worst) | photos unsure mean | renders CG per set |")
        print("| --- | --- | --- | --- |")
        for r in rules:
            print(f"| {r} | {np.mean(acc['nat'][r]):.3f} ({np.min(acc['nat'][r]):.3f}) | "
                  f"{np.mean(acc['uns'][r]):.3f} | " +
                  " / ".join(f"{np.mean(x):.2f}" for x in acc["cg"][r]) + " |")
        summary.append(acc)
    print("\nmean over the held-out renderers")
    print("| stage or rule | AUC per set | photos natural mean (worst) | photos unsure mean | "
          "renders CG per set |")
    print("| --- | --- | --- | --- | --- |")
    for r in rules:
        auc = " / ".join(
            f"{np.mean([np.mean(acc['auc'][r][i]) for acc in summary]):.3f}"
            for i in range(len(sets))) if r in summary[0]["auc"] else "-"
        nat = np.mean([np.mean(acc["nat"][r]) for acc in summary])
        worst = min(np.min(acc["nat"][r]) for acc in summary)
        uns = np.mean([np.mean(acc["uns"][r]) for acc in summary])
        cg = " / ".join(f"{np.mean([np.mean(acc['cg'][r][i]) for acc in summary]):.2f}"
                        for i in range(len(sets)))
        print(f"| {r} | {auc} | {nat:.3f} ({worst:.3f}) | {uns:.3f} | {cg} |")


if __name__ == "__main__":
    main()
