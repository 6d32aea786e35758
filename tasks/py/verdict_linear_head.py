"""The verdict with a linear head, under leave one photograph source and one scene generator out
(docs/production.md, "A linear head in the verdict"; the rule was written there before the run).

For each held-out photograph source S (at least --min-images photographs) and each held-out
production generator G:

- one-class stage: standardised features, Ledoit-Wolf Gaussian (the toolkit's `gauss`), squared
  Mahalanobis distance minus the threshold, the (1 - nu) quantile of out-of-fold distances over
  five folds of whole sources (`--threshold cv-source`); fitted on every photograph but S's;
- head: the shipped CNN head's cached p(CG) (`loso --head`'s cache), or L2 logistic regression on
  whole-image features (standardised, C fixed, balanced), fitted on every photograph but S's
  against the renders of the generators other than G (and cgbench's procedural renders with
  `+proc`); p(CG) = the logistic of its decision; its threshold the (1 - nu) quantile of the
  training photographs' out-of-fold p(CG) (five folds of whole sources; each render its own
  group), its natural reference those out-of-fold values;
- verdicts of every rule as lib/detect/detector.ts gives them: `head` (unsure band
  min(0.1, t/2, (1-t)/2) around t), `oneclass` (band 0.1 x |threshold|), `both`, `fused`
  (Fisher's combination of the two upper-tail p-values among the natural references, minus the
  chi2(4) 95 % quantile, band 0.1 x that quantile).

S's photographs and G's renders are counted; Sunflow and Tachyon (in no training) are scored by
the head trained with every generator. With `--fifth`, the landscapes (`Landscape`) are a fifth
generator held out in turn, and their texture sources (`LANDSCAPE_TEXTURES`) leave the photographs,
so that no photograph is both a texture and a natural image in one run (docs/production.md, "Five
generators in the verdict"). A head named `…+proc-even` (an exploration, not among
the candidates the rule chose from) weighs the photographs half and each render family (production,
procedural) a quarter, in place of balanced classes. A head named `…-rbf` (`mobilenet-rbf`,
`mobilenet+proc-rbf`; docs/production.md, "A non-linear head") is the RBF-kernel SVM (C = 1) in
place of the logistic regression. `mobilenet-two` (an exploration too) is two
heads, one per render family, each with its threshold at the 1 - nu/2 quantile, under the rules
`either` and `fused3` (Fisher over both heads and the one-class stage, chi2(6)). Prints the table of the docs: per (head, rule) the
held-out photographs called natural / unsure (mean over sources, worst), and the share of each
render set called computer-generated.

    /usr/bin/python3 tasks/py/verdict_linear_head.py

Reads the feature caches of the runs named in --help (they must exist: docs/production.md says how
each was made). Needs Debian's python3-sklearn.
"""

import argparse
import csv
import json
import math
import random

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from generator_curve import head_model

NU = 0.05
BAND = 0.1
FISHER95 = 9.487729036781154  # chi2(4) 0.95 quantile
GENERATORS = {
    "first": ["Production", "ProductionEEVEE", "ProductionPOVRay"],
    "rooms": ["Interior"],
    "still lifes": ["Studio"],
    "streets": ["Exterior"],
}
NEVER = ["Sunflow", "Tachyon"]
SETS = [f for g in GENERATORS.values() for f in g] + NEVER
# make.ts --generator landscape --texture-source opencv-doc,qt5-quick-demos
LANDSCAPE_TEXTURES = ["opencv-doc", "qt5-quick-demos"]
PROCEDURAL = ["CgCycles", "CgEEVEE", "CgPOVRay"]


def load(folder, key):
    """A cached feature list: {image name: vector}."""
    with open(f"{folder}/{key}.json") as f:
        meta = json.load(f)
    shape = meta["weightsManifest"][0]["weights"][0]["shape"]
    x = np.nan_to_num(np.fromfile(f"{folder}/{key}.bin", dtype=np.float32).reshape(shape))
    return {n.rsplit("#", 1)[0]: x[i] for i, n in enumerate(meta["names"])}


def merged(pairs):
    out = {}
    for folder, key in pairs:
        out.update(load(folder, key))
    return out


def source_folds(groups, k=5, seed=0):
    """Fold of each row: whole groups, shuffled with a seed, dealt round robin."""
    ids = sorted(set(groups))
    random.Random(seed).shuffle(ids)
    fold = {g: i % k for i, g in enumerate(ids)}
    return np.array([fold[g] for g in groups])


class Gauss:
    """The toolkit's `gauss` one-class model, threshold out of fold by source."""

    def __init__(self, x, groups):
        f = source_folds(groups)
        oof = np.empty(len(x))
        for k in range(5):
            m = self._fit(x[f != k])
            oof[f == k] = m(x[f == k])
        self.threshold = float(np.quantile(oof, 1 - NU))
        self.reference = np.sort(oof - self.threshold)
        self.d2 = self._fit(x)

    @staticmethod
    def _fit(x):
        sc = StandardScaler().fit(x)
        sd = np.where(sc.scale_ > 0, sc.scale_, 1)
        z = (x - sc.mean_) / sd
        lw = LedoitWolf().fit(z)
        return lambda y: lw.mahalanobis((y - sc.mean_) / sd)

    def score(self, y):
        return self.d2(y) - self.threshold


def tail(reference, v):
    """Upper-tail p-value of v among the references (lib/core/stats.ts upperTail)."""
    r = np.asarray(reference)
    return (np.sum(r[None, :] >= np.asarray(v)[:, None], axis=1) + 1) / (len(r) + 1)


def verdicts(p, t, href, s, othr, oref):
    """Every rule's verdicts: 1 computer-generated, 0 natural, -1 unsure."""
    bp = min(BAND, t / 2, (1 - t) / 2)
    head = np.where(p > t + bp, 1, np.where(p < t - bp, 0, -1))
    bf = BAND * abs(othr)
    oc = np.where(s > bf, 1, np.where(s < -bf, 0, -1))
    fused = -2 * (np.log(tail(href, p)) + np.log(tail(oref, s))) - FISHER95
    fb = BAND * FISHER95
    fu = np.where(fused > fb, 1, np.where(fused < -fb, 0, -1))
    return {"both": np.where(head == oc, head, -1), "fused": fu, "head": head, "oneclass": oc}


FISHER95_3 = 12.591587243743977  # chi2(6) 0.95 quantile


def verdicts_two(p1, t1, r1, p2, t2, r2, s, othr, oref):
    """Two heads (each with its threshold at the 1 - nu/2 quantile) and the one-class stage:
    `either` (computer-generated when either head is over its threshold and out of its band,
    natural when both are under and out of it) and `fused3` (Fisher over the three tails)."""
    def head(p, t):
        bp = min(BAND, t / 2, (1 - t) / 2)
        return np.where(p > t + bp, 1, np.where(p < t - bp, 0, -1))
    h1, h2 = head(p1, t1), head(p2, t2)
    either = np.where((h1 == 1) | (h2 == 1), 1, np.where((h1 == 0) & (h2 == 0), 0, -1))
    fused = -2 * (np.log(tail(r1, p1)) + np.log(tail(r2, p2)) + np.log(tail(oref, s))) - FISHER95_3
    fb = BAND * FISHER95_3
    fu = np.where(fused > fb, 1, np.where(fused < -fb, 0, -1))
    return {"either": either, "fused3": fu}


def feature_source(head):
    """The feature source a head name reads: `mobilenet+proc-rbf` -> `mobilenet`, `cnn` -> `cnn`."""
    return head.split("+")[0].removesuffix("-rbf").removesuffix("-two")


def linear_head(x, y, groups, c, weight=None, kind="linear"):
    """Logistic regression (or, with `kind` "rbf", the RBF-kernel SVM of generator_curve.py), its
    out-of-fold threshold and natural reference (p(CG) units: the logistic of the decision).
    With `weight` (per row), those sample weights replace the balanced class weights."""
    def model():
        if kind != "linear":
            return head_model(kind, c)
        return make_pipeline(StandardScaler(), LogisticRegression(
            C=c, max_iter=5000, class_weight=None if weight is not None else "balanced"))

    def fit(rows):
        w = {} if weight is None else {"logisticregression__sample_weight": weight[rows]}
        return model().fit(x[rows], y[rows], **w)
    oof = []
    for tr, held in GroupKFold(5).split(x, y, groups):
        nat = held[y[held] == 0]
        oof.append(fit(tr).decision_function(x[nat]))
    ref = 1 / (1 + np.exp(-np.concatenate(oof)))
    m = fit(np.arange(len(x)))
    return (lambda v: 1 / (1 + np.exp(-m.decision_function(v)))), float(np.quantile(ref, 1 - NU)), ref


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--natural-csv", default="/work/verdict/natural.csv")
    a.add_argument("--profile", default="runs/loso-verdict2/features",
                   help="profile features of the photographs and renders (loso-verdict2)")
    a.add_argument("--cnn-head", default="runs/loso-verdict2/features/head-af448b69c9bd9746.json")
    a.add_argument("--cnn-detector", default="models/corpus-profile/detector.json",
                   help="the detector whose head --cnn-head cached (its threshold and references)")
    a.add_argument("--mobilenet", default="runs/prod-gen-mob/features,runs/prod-new-mob/features,"
                   "runs/mob-missing/features")
    a.add_argument("--residual", default="runs/loso-verdict-res75/features")
    a.add_argument("--c", type=float, default=0.1)
    a.add_argument("--min-images", type=int, default=10)
    a.add_argument("--heads", default="cnn,mobilenet,mobilenet+proc,residual")
    a.add_argument("--per-source", default="", choices=["", "both", "fused", "head", "oneclass"],
                   help="a rule: also print each held-out source's shares called natural and "
                   "unsure under it, by head")
    a.add_argument("--fifth", action="store_true",
                   help="the landscapes as a fifth generator (their features must be in the "
                   "caches); their texture sources leave the photographs")
    a.add_argument("--drop", default="",
                   help="photograph sources (comma-separated) to leave out, e.g. the landscapes' "
                   "texture sources without --fifth, for four generators on --fifth's photographs")
    args = a.parse_args()
    global SETS
    if args.fifth:
        GENERATORS["landscapes"] = ["Landscape"]
        SETS = [f for g in GENERATORS.values() for f in g] + NEVER
    if args.per_source and "mobilenet-two" in args.heads.split(","):
        raise SystemExit("--per-source: the head mobilenet-two has the rules either and fused3")

    rows = list(csv.DictReader(open(args.natural_csv)))
    drop = set(filter(None, args.drop.split(","))) | set(LANDSCAPE_TEXTURES if args.fifth else [])
    unknown = drop - {r["Group"] for r in rows}
    if unknown:
        raise SystemExit(f"--drop: no photographs of {', '.join(sorted(unknown))} in {args.natural_csv}")
    rows = [r for r in rows if r["Group"] not in drop]
    names = [r["Name"] for r in rows]
    src = np.array([r["Group"] for r in rows])
    big = [s for s in sorted(set(src)) if (src == s).sum() >= args.min_images]
    pn, pr = load(args.profile, "natural-profile"), load(args.profile, "renders-profile")
    render_names = [n for n in pr if n.split("/")[0] in SETS]
    missing = [f for f in SETS if not any(n.split("/")[0] == f for n in render_names)]
    if missing:
        raise SystemExit(f"{args.profile}: no profile vectors of {', '.join(missing)}")
    folder = np.array([n.split("/")[0] for n in render_names])
    nprof = np.stack([pn[n] for n in names])
    rprof = np.stack([pr[n] for n in render_names])

    feats = {}
    mob = [f for f in args.mobilenet.split(",")]
    mn = merged([(f, "natural-mobilenet") for f in mob])
    mr = merged([(f, "renders-mobilenet") for f in mob])
    feats["mobilenet"] = (mn, mr)
    feats["residual"] = (load(args.residual, "natural-residual"),
                         load(args.residual, "renders-residual"))
    for kind in {feature_source(h) for h in args.heads.split(",")} - {"cnn"}:
        have = {n.split("/")[0] for n in feats[kind][1]}
        missing = [f for f in SETS if f not in have]
        if missing:
            raise SystemExit(f"--{kind}: no vectors of {', '.join(missing)}")
    cnn = json.load(open(args.cnn_head))["pCg"]
    cnn = {k.split("/runs/natural/")[-1].split("/verdict-renders/")[-1]: v for k, v in cnn.items()}

    heads = args.heads.split(",")
    counts = {}  # (head, rule) -> {"photos": [(nat, uns) per source], set: [cg...]}

    def count(h, g, vs, vr):
        """Every rule's verdicts on S's photographs (vs) and the renders (vr), with generator g
        (or "all") out of the head's training: the photographs once per source, with the
        all-generator head; each render set by the head that never saw it."""
        for rule in vs:
            c = counts.setdefault((h, rule), {"photos": []})
            if g == "all":
                c["photos"].append(((vs[rule] == 0).mean(), (vs[rule] == -1).mean()))
            for f in GENERATORS.get(g, NEVER):
                c.setdefault(f, []).append((vr[rule][folder == f] == 1).mean())

    for s in big:
        tr = src != s
        oc = Gauss(nprof[tr], list(src[tr]))
        s_nat = oc.score(nprof[~tr])
        s_ren = oc.score(rprof)
        for h in heads:
            trainings = {}  # generator held out -> (p of S's photos, p of renders, t, ref)
            if h == "mobilenet-two":  # a head per render family (an exploration)
                nat, ren = feats["mobilenet"]
                xn = np.stack([nat[n] for n in np.array(names)[tr]])
                xs = np.stack([nat[n] for n in np.array(names)[~tr]])
                xr_all = np.stack([ren[n] for n in render_names])
                xp = np.stack([ren[n] for n in ren if n.split("/")[0] in PROCEDURAL])

                def fit_on(xr):
                    x = np.concatenate([xn, xr])
                    y = np.r_[np.zeros(len(xn)), np.ones(len(xr))]
                    grp = np.r_[src[tr], [f"r{i}" for i in range(len(xr))]]
                    f, _, ref = linear_head(x, y, grp, args.c)
                    return f(xs), f(xr_all), float(np.quantile(ref, 1 - NU / 2)), ref
                proc_head = fit_on(xp)
                for g in list(GENERATORS) + ["all"]:
                    trf = [f for gg, fs in GENERATORS.items() if gg != g for f in fs]
                    prod_head = fit_on(xr_all[np.isin(folder, trf)])
                    a_ = (prod_head[0], prod_head[2], prod_head[3], proc_head[0], proc_head[2], proc_head[3])
                    b_ = (prod_head[1], prod_head[2], prod_head[3], proc_head[1], proc_head[2], proc_head[3])
                    count(h, g, verdicts_two(*a_, s_nat, oc.threshold, oc.reference),
                          verdicts_two(*b_, s_ren, oc.threshold, oc.reference))
                continue
            if h == "cnn":
                ps = np.array([cnn[n] for n in np.array(names)[~tr]])
                prr = np.array([cnn[n] for n in render_names])
                ht = json.load(open(args.cnn_detector))["headThreshold"]
                t, href = ht["value"], ht["reference"]
                for g in list(GENERATORS) + ["all"]:
                    trainings[g] = (ps, prr, t, href)
            else:
                kind = feature_source(h)
                model = "rbf" if h.endswith("-rbf") else "linear"
                nat, ren = feats[kind]
                xn = np.stack([nat[n] for n in np.array(names)[tr]])
                xs = np.stack([nat[n] for n in np.array(names)[~tr]])
                xr_all = np.stack([ren[n] for n in render_names])
                proc = [n for n in ren if n.split("/")[0] in PROCEDURAL] if "+proc" in h else []
                c = 1.0 if model == "rbf" else args.c
                for g in list(GENERATORS) + ["all"]:
                    out = GENERATORS.get(g, [])
                    trf = [f for gg, fs in GENERATORS.items() if gg != g for f in fs]
                    rsel = np.isin(folder, trf)
                    xr = np.concatenate([xr_all[rsel]] + ([np.stack([ren[n] for n in proc])] if proc else []))
                    x = np.concatenate([xn, xr])
                    y = np.r_[np.zeros(len(xn)), np.ones(len(xr))]
                    grp = np.r_[src[tr], [f"r{i}" for i in range(len(xr))]]
                    w = None
                    if h.endswith("+proc-even"):  # photographs half; each render family a quarter
                        nprod, nproc, n = int(rsel.sum()), len(proc), len(x)
                        w = np.r_[np.full(len(xn), n / 2 / len(xn)), np.full(nprod, n / 4 / nprod),
                                  np.full(nproc, n / 4 / nproc)]
                    f, t, ref = linear_head(x, y, grp, c, w, model)
                    trainings[g] = (f(xs), f(xr_all), t, ref)
            for g, (ps, prr, t, href) in trainings.items():
                count(h, g, verdicts(ps, t, href, s_nat, oc.threshold, oc.reference),
                      verdicts(prr, t, href, s_ren, oc.threshold, oc.reference))
        print(f"done {s}", flush=True)

    print(f"\n{len(names)} photographs of {len(set(src))} sources, {len(big)} held out; C = {args.c} "
          "(1 for the -rbf heads)\n")
    print(f"| head | rule | photos natural | photos unsure | renders CG (mean of {len(SETS)}) | "
          + " | ".join(SETS) + " | qualifies |")
    print("| --- | --- | --: | --: | --: | " + " | ".join("--:" for _ in SETS) + " | --- |")
    for (h, rule), c in counts.items():
        ph = np.array(c["photos"])
        cg = [float(np.mean(c[f])) for f in SETS]
        q = ph[:, 0].mean() >= 0.90 and ph[:, 1].mean() <= 0.10
        print(f"| {h} | {rule} | {ph[:, 0].mean():.3f} ({ph[:, 0].min():.3f}) | "
              f"{ph[:, 1].mean():.3f} ({ph[:, 1].max():.3f}) | {np.mean(cg):.3f} | "
              + " | ".join(f"{v:.2f}" for v in cg) + f" | {'yes' if q else 'no'} |")
    if args.per_source:
        rule = args.per_source
        print(f"\nPhotographs called natural / unsure under rule {rule}, by held-out source "
              f"(n photographs):\n")
        print("| source | n | " + " | ".join(heads) + " |")
        print("| --- | --: | " + " | ".join("--:" for _ in heads) + " |")
        for k, s_ in enumerate(big):
            cells = [counts[(h, rule)]["photos"][k] for h in heads]
            print(f"| {s_} | {(src == s_).sum()} | "
                  + " | ".join(f"{c[0]:.2f} / {c[1]:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
