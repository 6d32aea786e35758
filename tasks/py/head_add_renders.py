"""Renders (or photographs) added to a shipped kernel head without its training data (a diagnostic;
docs/production.md, "Night in the head's training"): the head's support vectors stand in for its
training images, and the SVM is fitted again on them and the new images.

An SVM's solution depends on its support vectors alone: fitted on them with the same C, kernel
width and class weights, it gives back the same decision (checked here: the largest difference
from the shipped decision, on the support vectors and on the new renders, is printed and must be
under 1e-3). Fitted on them and new renders, it approximates the fit on every training image and
the new renders (an incremental SVM, Syed, Liu and Sung 1999: a training image that was not a
support vector can become one and is missing here). As shipped: the standardisation, gamma, C;
the class weights n / (2 n_class) from the shipped head's counts plus the new images. The
threshold and its reference are kept as shipped (the photographs' out-of-fold p(CG) cannot be
computed again without them): held-out photographs say whether it still holds.

    /usr/bin/python3 tasks/py/head_add_renders.py --detector models/corpus-rbf5 \
        --features runs/NAME/features --folders Folder[,Folder...] --out DIR

--features: a `train-head --features mobilenet --match-compression 75` run's cache (its
renders-mobilenet list); --folders: the render folders (the names' first part) to add; none: the
support vectors alone (the check). --natural-folders: folders of the same list whose images are
added as photographs instead (docs/production.md, "Photographs through the renders' camera steps").
Writes DIR as a copy of the detector with the new head.json, its checksum and name in
detector.json and what was added in the head's provenance (after what earlier refits added); DIR
appears only when complete (written beside it, then renamed).
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import sys

import numpy as np
from sklearn.svm import SVC

sys.path.insert(0, "tasks/py")
from verdict_linear_head import load  # noqa: E402


def decision(sv, coef, rho, gamma, z):
    """The toolkit's decision: sum of coef_i exp(-gamma |sv_i - z|^2) - rho, row by row."""
    d2 = (z * z).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2 * z @ sv.T
    return np.exp(-gamma * np.maximum(d2, 0)) @ coef - rho


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--detector", default="models/corpus-rbf5")
    a.add_argument("--features", default="")
    a.add_argument("--folders", default="")
    a.add_argument("--natural-folders", default="")
    a.add_argument("--out", required=True)
    args = a.parse_args()
    head = json.load(open(f"{args.detector}/head.json"))
    dim = len(head["mean"])
    sv = np.frombuffer(base64.b64decode(head["vectors"]), dtype="<f4").reshape(-1, dim)
    sv = sv.astype(np.float64)
    coef, rho, gamma = np.array(head["coefficients"]), head["rho"], head["gamma"]
    y_sv = (coef > 0).astype(int)  # +1: a render
    n_nat, n_cg = head["n"]["natural"], head["n"]["rendered"]
    n = n_nat + n_cg
    bound = {0: head["c"] * n / (2 * n_nat), 1: head["c"] * n / (2 * n_cg)}
    print(f"{len(sv)} support vectors ({int(y_sv.sum())} renders); largest |coef| per class: "
          f"{np.abs(coef[y_sv == 0]).max():.4f} (bound {bound[0]:.4f}), "
          f"{np.abs(coef[y_sv == 1]).max():.4f} (bound {bound[1]:.4f})")

    folders = [f for f in args.folders.split(",") if f]
    natural = [f for f in args.natural_folders.split(",") if f]
    if set(folders) & set(natural):
        raise SystemExit(f"{sorted(set(folders) & set(natural))}: given as renders and as photographs")
    mean, scale = np.array(head["mean"]), np.array(head["scale"])

    def vectors(which):
        """The cached vectors of the images in these folders, standardised as the head's."""
        if not which:
            return [], np.zeros((0, dim))
        cache = load(args.features, "renders-mobilenet")
        names = sorted(k for k in cache if k.split("/")[0] in which)
        if not names:
            raise SystemExit(f"{args.features}: no image of {which}")
        return names, (np.stack([cache[k] for k in names]).astype(np.float64) - mean) / scale

    names, added_cg = vectors(folders)
    nat_names, added_nat = vectors(natural)
    added = np.vstack([added_cg, added_nat])
    print(f"added: {len(names)} renders of {folders or 'none'}, "
          f"{len(nat_names)} photographs of {natural or 'none'}")

    # the check: the support vectors alone give back the shipped decision
    check = SVC(C=1.0, kernel="rbf", gamma=gamma, class_weight=bound, tol=1e-3)
    check.fit(sv, y_sv)
    probe = np.vstack([sv, added])
    shipped = decision(sv, coef, rho, gamma, probe)
    diff = np.abs(check.decision_function(probe) - shipped).max()
    print(f"support vectors alone: largest difference from the shipped decision {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("the support vectors alone do not give back the shipped head")

    m, k = len(names), len(nat_names)
    weights = {0: head["c"] * (n + m + k) / (2 * (n_nat + k)),
               1: head["c"] * (n + m + k) / (2 * (n_cg + m))}
    svm = SVC(C=1.0, kernel="rbf", gamma=gamma, class_weight=weights, tol=1e-3)
    svm.fit(np.vstack([sv, added]), np.r_[y_sv, np.ones(m, int), np.zeros(k, int)])
    new_sv, new_coef = svm.support_vectors_, svm.dual_coef_[0]
    new_rho = -float(svm.intercept_[0])
    mine = decision(new_sv, new_coef, new_rho, gamma, probe)
    assert np.abs(mine - svm.decision_function(probe)).max() < 1e-6, "decision convention"
    p = lambda d: 1 / (1 + np.exp(-d))  # noqa: E731
    t = head["threshold"]
    for what, lo, hi in (("renders", len(sv), len(sv) + m), ("photographs", len(sv) + m, len(probe))):
        if hi > lo:
            before, after = shipped[lo:hi], mine[lo:hi]
            print(f"the added {what} over the shipped threshold: before "
                  f"{np.mean(p(before) >= t):.3f}, after (in sample) {np.mean(p(after) >= t):.3f}")
    print(f"{len(new_sv)} support vectors after")

    tmp = f"{args.out}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(args.detector, tmp)
    earlier = head.get("provenance", {}).get("added", [])
    head.update({
        "coefficients": [float(c) for c in new_coef],
        "vectors": base64.b64encode(new_sv.astype("<f4").tobytes()).decode(),
        "rho": new_rho,
        "n": {"natural": n_nat + k, "rendered": n_cg + m},
    })
    head["provenance"] = {**head.get("provenance", {}), "added": [
        *(earlier if isinstance(earlier, list) else [earlier]), {
            "how": "refitted by scikit-learn on the shipped head's support vectors and these images "
                   "(tasks/py/head_add_renders.py); threshold and reference as shipped",
            "from": args.detector, "features": args.features, "folders": folders, "renders": m,
            **({"naturalFolders": natural, "photographs": k} if k else {}),
            "class_weights": weights,
        }]}
    text = json.dumps(head)
    with open(f"{tmp}/head.json", "w") as f:
        f.write(text)
    det = json.load(open(f"{tmp}/detector.json"))
    det["head"]["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    what = [f"{m} renders of {','.join(folders)}" if m else "",
            f"{k} photographs of {','.join(natural)}" if k else ""]
    det["name"] = (f"{det['name']} + {' + '.join(w for w in what if w) or 'nothing'}"
                   " (support-vector refit)")
    with open(f"{tmp}/detector.json", "w") as f:
        json.dump(det, f, indent=1)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
