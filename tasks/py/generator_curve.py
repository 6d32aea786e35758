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

`--model` swaps the linear model for a non-linear one at settings fixed in advance (docs/production.md,
"A non-linear head"): `rbf` (an RBF-kernel SVM), `mlp` (a one-hidden-layer perceptron, three seeds)
or `gbt` (gradient-boosted trees). `--k` keeps some numbers of generators in training only.
`--inner-threshold` also sets a threshold the way a detector must, before it sees the fold: the 95 %
quantile of the training photographs' scores out of fold (four inner folds of whole sources), and
reports the renders caught and the fold's photographs kept natural at it.
"""

import argparse
import itertools

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


class BalancedMLP:
    """Standardised features, one hidden layer of 256 ReLU units, L2 1e-2, Adam for 300 epochs;
    the smaller class drawn again at random until the two are the same size (scikit-learn's
    perceptron takes no class weights); three seeds, their output-layer logits averaged."""

    def __init__(self, seeds=(0, 1, 2)):
        self.seeds = seeds

    def fit(self, x, y):
        self.scaler = StandardScaler().fit(x)
        x = self.scaler.transform(x)
        self.nets = []
        for seed in self.seeds:
            rng = np.random.default_rng(seed)
            small = int(y.sum() < len(y) / 2)
            few, many = np.flatnonzero(y == small), np.flatnonzero(y != small)
            take = np.r_[many, few, rng.choice(few, len(many) - len(few))]
            self.nets.append(MLPClassifier((256,), alpha=1e-2, max_iter=300, random_state=seed)
                             .fit(x[take], y[take]))
        return self

    def decision_function(self, x):
        x = self.scaler.transform(x)
        out = 0
        for net in self.nets:
            h = np.maximum(x @ net.coefs_[0] + net.intercepts_[0], 0)
            out = out + (h @ net.coefs_[1] + net.intercepts_[1])[:, 0]
        return out / len(self.nets)


def head_model(name, c):
    """A fresh model by name, at the settings written in docs/production.md before any figure."""
    if name == "linear":
        return make_pipeline(StandardScaler(), LogisticRegression(
            C=c, max_iter=5000, class_weight="balanced"))
    if name == "rbf":
        return make_pipeline(StandardScaler(), SVC(C=1.0, gamma="scale", class_weight="balanced"))
    if name == "mlp":
        return BalancedMLP()
    if name == "gbt":
        return HistGradientBoostingClassifier(class_weight="balanced", random_state=0)
    raise SystemExit(f"--model: no model {name!r} (linear, rbf, mlp, gbt)")

from production_linear import features


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--features", required=True, help="loso runs' features folders, comma-separated")
    p.add_argument("--source", default="mobilenet")
    p.add_argument("--natural-csv", required=True)
    p.add_argument("--groups", required=True, help="the generators: render folders, comma-separated "
                   "('A+B' for several engines of one generator)")
    p.add_argument("--procedural", default="CgCycles,CgEEVEE,CgPOVRay")
    p.add_argument("--c", type=float, default=0.1, help="the linear model's C (the others' "
                   "settings are fixed: head_model)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--model", default="linear", help="linear, rbf, mlp or gbt")
    p.add_argument("--k", help="the numbers of other generators in training, comma-separated "
                   "(default: every number)")
    p.add_argument("--inner-threshold", action="store_true",
                   help="also a threshold set out of fold on the training photographs")
    a = p.parse_args()
    head_model(a.model, a.c)  # an unknown name stops here

    (names, nx, src), (rnames, rx) = features(a.features.split(","), a.source, a.natural_csv)
    folder = np.array([n.split("/")[0] for n in rnames])
    groups = [g.split("+") for g in a.groups.split(",")]
    missing = [f for g in groups for f in g if not (folder == f).any()]
    if missing:
        raise SystemExit(f"--groups: no renders in the folders {missing}")
    procedural = [x for x in a.procedural.split(",") if x]
    folds = list(GroupKFold(a.folds).split(nx, groups=src))
    print(f"{len(names)} photographs of {len(set(src))} sources in {a.folds} folds of whole "
          f"sources; {a.source} features, model {a.model}"
          f"{f', C = {a.c}' if a.model == 'linear' else ''}; {len(groups)} generators\n")

    def model():
        return head_model(a.model, a.c)

    def inner_threshold(fit, train):
        """The 95 % quantile of the fit's photographs scored out of fold (whole sources)."""
        scores = []
        for ifit, iheld in GroupKFold(4).split(fit, groups=src[fit]):
            x = np.concatenate([nx[fit[ifit]], rx[train]])
            y = np.r_[np.zeros(len(ifit)), np.ones(train.sum())]
            scores.append(model().fit(x, y).decision_function(nx[fit[iheld]]))
        return np.quantile(np.concatenate(scores), 0.95)

    rows = {}  # k -> [(held-out, trained, auc, caught)]
    for g in groups:
        test = np.isin(folder, g)
        others = [o for o in groups if o != g]
        for k in range(len(others) + 1):
            if a.k and str(k) not in a.k.split(","):
                continue
            for chosen in itertools.combinations(others, k):
                train = np.isin(folder, procedural + [f for o in chosen for f in o])
                aucs, caught, inner, kept = [], [], [], []
                for fit, held in folds:
                    x = np.concatenate([nx[fit], rx[train]])
                    y = np.r_[np.zeros(len(fit)), np.ones(train.sum())]
                    m = model().fit(x, y)
                    sn, sr = m.decision_function(nx[held]), m.decision_function(rx[test])
                    aucs.append(roc_auc_score(np.r_[np.zeros(len(sn)), np.ones(len(sr))],
                                              np.r_[sn, sr]))
                    caught.append(float((sr > np.quantile(sn, 0.95)).mean()))
                    if a.inner_threshold:
                        t = inner_threshold(fit, train)
                        inner.append(float((sr > t).mean()))
                        kept.append(float((sn <= t).mean()))
                trained = "+".join(o[0] for o in chosen) or "none"
                extra = (np.mean(inner), np.mean(kept)) if a.inner_threshold else ()
                rows.setdefault(k, []).append(("+".join(g), trained, np.mean(aucs), np.mean(caught))
                                              + extra)
                print(f"# {'+'.join(g)} held out, trained with {trained}: AUC {np.mean(aucs):.3f}, "
                      f"caught {np.mean(caught):.3f}"
                      + (f"; inner threshold: caught {extra[0]:.3f}, photographs natural "
                         f"{extra[1]:.3f}" if extra else ""), flush=True)
    inner_head = (" | caught at the inner threshold, mean | worst | photographs natural at it, "
                  "mean | worst") if a.inner_threshold else ""
    print("\n| generators in training | pairs | AUC mean | AUC worst | caught at NI 0.95, mean "
          f"| caught, worst{inner_head} |")
    print("| --: | --: | --: | --: | --: | --: |" + (" --: | --: | --: | --: |"
                                                    if a.inner_threshold else ""))
    for k, r in sorted(rows.items()):
        cols = [np.array([x[i] for x in r]) for i in range(2, len(r[0]))]
        print(f"| {k} | {len(r)} | " + " | ".join(f"{c.mean():.3f} | {c.min():.3f}" for c in cols)
              + " |")


if __name__ == "__main__":
    main()
