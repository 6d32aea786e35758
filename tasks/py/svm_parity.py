"""The kernel head against scikit-learn (docs/production.md, "A non-linear head"): fits
`make_pipeline(StandardScaler(), SVC(C=1, gamma="scale", class_weight="balanced"))` on a loso
run's cached features (the photographs of every fold but the first of five, whole sources, and
every render of those folders) and writes the rows, labels and its decisions on them and on the
first fold's photographs to a JSON file for `tasks/svm_parity.ts`, which fits `RbfSvmHead` on the
same rows and compares.

    /usr/bin/python3 tasks/py/svm_parity.py --out /tmp/svm.json \\
        --features runs/prod-gen-mob/features,runs/prod-new-mob/features,runs/prod-land-mob/features \\
        --source mobilenet --natural-csv W/production-gen5/loso-natural-40.csv
"""

import argparse
import json

import numpy as np
from sklearn.model_selection import GroupKFold

from generator_curve import head_model
from production_linear import features


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--features", required=True)
    p.add_argument("--source", default="mobilenet")
    p.add_argument("--natural-csv", required=True)
    a = p.parse_args()
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
