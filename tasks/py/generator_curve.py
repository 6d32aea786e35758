"""Leave one scene generator out, by the number of generators in training (issue 27,
docs/production.md "A fifth generator"): does a held-out generator's score keep rising as
generators are added?

The linear model of tasks/py/production_linear.py (standardised features, L2 logistic regression,
C fixed, balanced classes) on a loso run's cached features. For each held-out generator G (a group
of render folders, `A+B` for several engines of one generator) and each choice of k of the other
generators (k = 0 .. all; cgbench's procedural renders always in training), the photographs in
five folds of whole sources: fit on the other folds' photographs and the training renders, then
score the fold's photographs against G's renders. Per fold: the AUC, and the share of G's renders
above the 95 % quantile of the fold's photographs' scores (the renders caught at natural recall
0.95). A row per k: the mean over folds, held-out generators and choices, and the worst
(held-out generator, choice) pair's mean over folds.

    /usr/bin/python3 tasks/py/generator_curve.py --features runs/prod-gen-mob/features,... \\
        --source mobilenet --natural-csv W/production-gen5/loso-natural-40.csv \\
        --groups Production+ProductionEEVEE+ProductionPOVRay,Interior,Studio,Exterior,Landscape

Prints one markdown table, then one row per (held-out generator, choice) as `# ` comments.
"""

import argparse
import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from production_linear import features


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--features", required=True, help="loso runs' features folders, comma-separated")
    p.add_argument("--source", default="mobilenet")
    p.add_argument("--natural-csv", required=True)
    p.add_argument("--groups", required=True, help="the generators: render folders, comma-separated "
                   "('A+B' for several engines of one generator)")
    p.add_argument("--procedural", default="CgCycles,CgEEVEE,CgPOVRay")
    p.add_argument("--c", type=float, default=0.1)
    p.add_argument("--folds", type=int, default=5)
    a = p.parse_args()

    (names, nx, src), (rnames, rx) = features(a.features.split(","), a.source, a.natural_csv)
    folder = np.array([n.split("/")[0] for n in rnames])
    groups = [g.split("+") for g in a.groups.split(",")]
    missing = [f for g in groups for f in g if not (folder == f).any()]
    if missing:
        raise SystemExit(f"--groups: no renders in the folders {missing}")
    procedural = [x for x in a.procedural.split(",") if x]
    folds = list(GroupKFold(a.folds).split(nx, groups=src))
    print(f"{len(names)} photographs of {len(set(src))} sources in {a.folds} folds of whole "
          f"sources; {a.source} features, C = {a.c}; {len(groups)} generators\n")

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(
            C=a.c, max_iter=5000, class_weight="balanced"))

    rows = {}  # k -> [(held-out, trained, auc, caught)]
    for g in groups:
        test = np.isin(folder, g)
        others = [o for o in groups if o != g]
        for k in range(len(others) + 1):
            for chosen in itertools.combinations(others, k):
                train = np.isin(folder, procedural + [f for o in chosen for f in o])
                aucs, caught = [], []
                for fit, held in folds:
                    x = np.concatenate([nx[fit], rx[train]])
                    y = np.r_[np.zeros(len(fit)), np.ones(train.sum())]
                    m = model().fit(x, y)
                    sn, sr = m.decision_function(nx[held]), m.decision_function(rx[test])
                    aucs.append(roc_auc_score(np.r_[np.zeros(len(sn)), np.ones(len(sr))],
                                              np.r_[sn, sr]))
                    caught.append(float((sr > np.quantile(sn, 0.95)).mean()))
                trained = "+".join(o[0] for o in chosen) or "none"
                rows.setdefault(k, []).append(("+".join(g), trained, np.mean(aucs), np.mean(caught)))
                print(f"# {'+'.join(g)} held out, trained with {trained}: AUC {np.mean(aucs):.3f}, "
                      f"caught {np.mean(caught):.3f}", flush=True)
    print("\n| generators in training | pairs | AUC mean | AUC worst | caught at NI 0.95, mean "
          "| caught, worst |")
    print("| --: | --: | --: | --: | --: | --: |")
    for k, r in sorted(rows.items()):
        auc, got = np.array([x[2] for x in r]), np.array([x[3] for x in r])
        print(f"| {k} | {len(r)} | {auc.mean():.3f} | {auc.min():.3f} | {got.mean():.3f} | "
              f"{got.min():.3f} |")


if __name__ == "__main__":
    main()
