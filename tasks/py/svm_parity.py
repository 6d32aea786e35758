"""The kernel head against scikit-learn (docs/production.md, "A non-linear head"): fits
`make_pipeline(StandardScaler(), SVC(C=1, gamma="scale", class_weight="balanced"))` on a loso
run's cached features (the photographs of every fold but the first of five, whole sources, and
every render of those folders) and writes the rows, labels and its decisions on them and on the
first fold's photographs to a JSON file for `tasks/svm_parity.ts`, which fits `RbfSvmHead` on the
same rows and compares.

    /usr/bin/python3 tasks/py/svm_parity.py --out /tmp/svm.json \\
        --features runs/prod-gen-mob/features,runs/prod-new-mob/features,runs/prod-land-mob/features \\
        --source mobilenet --natural-csv /work/production-gen5/loso-natural-40.csv

(the lists of docs/production.md, "A fifth generator"). `--small` prints instead the decisions
tests/lib/head/svm_test.ts records: the same model on 40 rows made by a formula, at five points.
"""

import argparse
import json

import numpy as np
from sklearn.model_selection import GroupKFold

from generator_curve import head_model
from production_linear import features


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out")
    p.add_argument("--features")
    p.add_argument("--source", default="mobilenet")
    p.add_argument("--natural-csv")
    p.add_argument("--small", action="store_true", help="the unit test's recorded decisions")
    a = p.parse_args()
    if a.small:
        n, d = 40, 3
        y = np.array([1.0 if i % 8 < 3 else 0.0 for i in range(n)])
        x = np.array([[np.sin(1.7 * i + 2.3 * j) * (1.5 if y[i] else 1.0) + 0.4 * y[i] * (j == 0)
                       for j in range(d)] for i in range(n)]).astype(np.float32)
        probe = np.array([[0, 0, 0], [1, 1, 1], [-1.2, 0.5, 0.3], [1.5, -1.5, 0.2],
                          [0.3, 0.1, -0.9]], dtype=np.float32)
        m = head_model("rbf", 1.0).fit(x.astype(np.float64), y)
        print(m.decision_function(probe.astype(np.float64)).tolist(), m[-1].support_.size)
        return
    if not (a.out and a.features and a.natural_csv):
        raise SystemExit("--out, --features and --natural-csv (or --small)")
    (_, nx, src), (_, rx) = features(a.features.split(","), a.source, a.natural_csv)
    fit, held = next(GroupKFold(5).split(nx, groups=src))
    x = np.concatenate([nx[fit], rx]).astype(np.float32)
    y = np.r_[np.zeros(len(fit)), np.ones(len(rx))]
    m = head_model("rbf", 1.0).fit(x.astype(np.float64), y)
    test = nx[held].astype(np.float32)
    json.dump({
        "dim": int(x.shape[1]), "train": x.tolist(), "y": y.astype(int).tolist(),
        "test": test.tolist(),
        "decisionTrain": m.decision_function(x.astype(np.float64)).tolist(),
        "decisionTest": m.decision_function(test.astype(np.float64)).tolist(),
        "supportVectors": int(m[-1].support_.size),
    }, open(a.out, "w"))
    print(f"{a.out}: {len(x)} training rows ({len(fit)} photographs, {len(rx)} renders), "
          f"{len(test)} held out; {m[-1].support_.size} support vectors")


if __name__ == "__main__":
    main()
