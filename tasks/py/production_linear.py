"""A supervised linear model on the toolkit's whole-image features, held out by photograph source
and by production engine (issue 27, docs/production.md "A linear model on residual features").

Reads a `deno task loso` run's feature cache (its `features/natural-<source>` and
`renders-<source>` lists: every photograph of the corpus, every render of --renders; more runs'
renders with `--features A,B`) and the corpus CSV (Group = source). For each held-out production engine E and each held-out photograph
source S (of at least --min-images photographs):

- fit: standardised features, L2 logistic regression (C fixed, class weights balanced) on the
  photographs of every other source against the training renders (the procedural renderers and
  the production engines other than E, as --train says);
- threshold: the (1 - nu) quantile of the natural photographs' out-of-fold scores, five folds of
  whole sources (a render fold never sets it), so no held-out photograph sets it;
- test: S's photographs against E's renders: AUC, S's natural recall at the threshold, the share
  of E's renders over it.

Mean and worst over the sources. No render of E and no photograph of S is in any fit or threshold.
E may be several folders held out together (`--held-out A+B+C`): every engine of one scene
generator, so that no render of that generator is in any fit (leave one generator out). With
`--train N`, each held-out group is scored by models trained with every choice of N of the other
groups (a row each): how the number of generators seen in training matters.
With --extra, the models that hold out --extra-for also score another run's render folders (the
ablation of the same engine: is it the rendering they catch, or the post steps?).

    /usr/bin/python3 tasks/py/production_linear.py --features runs/prod-loso-3/features \
        --source residual --natural-csv /work/production/loso-natural.csv --c 0.1

Needs Debian's python3-sklearn. Prints one markdown table.
"""

import argparse
import csv
import itertools
import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(prefix):
    """A cached feature list: the image names (crop suffix dropped) and the matrix."""
    with open(prefix + ".json") as f:
        meta = json.load(f)
    shape = meta["weightsManifest"][0]["weights"][0]["shape"]
    x = np.fromfile(prefix + ".bin", dtype=np.float32).reshape(shape)
    return [n.rsplit("#", 1)[0] for n in meta["names"]], np.nan_to_num(x)


def features(folders, source, natural_csv, exclude_source=""):
    """The photographs (names, matrix, sources) and the renders (names, matrix) of several loso
    runs' feature caches: the photographs are the first folder's that `natural_csv` lists (less the
    sources `exclude_source` names), the renders every folder's, each name once."""
    names, nx = load(f"{folders[0]}/natural-{source}")
    rnames, rx = load(f"{folders[0]}/renders-{source}")
    for more in folders[1:]:  # another run's renders (another generator's, say), each once
        n2, x2 = load(f"{more}/renders-{source}")
        seen = {n: i for i, n in enumerate(rnames)}
        clash = [n for k, n in enumerate(n2) if n in seen and not np.array_equal(rx[seen[n]], x2[k])]
        if clash:
            raise SystemExit(f"{more}: {len(clash)} renders share a name with another folder's "
                             f"but not its features (e.g. {clash[0]}): give the sets other labels")
        new = [k for k, n in enumerate(n2) if n not in seen]
        rnames, rx = rnames + [n2[k] for k in new], np.concatenate([rx, x2[new]])
    with open(natural_csv) as f:
        group = {r["Name"]: r["Group"] for r in csv.DictReader(f)}
    # the cache may hold the whole corpus: photographs the list leaves out (a texture pool's
    # sources) are left out here too
    listed = np.array([n in group for n in names])
    src = np.array([group.get(n, "") for n in names])
    keep = listed & ~np.isin(src, [x for x in exclude_source.split(",") if x])
    return ([n for n, k in zip(names, keep) if k], nx[keep], src[keep]), (rnames, rx)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--features", required=True,
                   help="a loso run's features folder, or several (comma-separated): the "
                   "photographs are the first's, the renders every folder's")
    p.add_argument("--source", default="residual")
    p.add_argument("--natural-csv", required=True)
    p.add_argument("--c", type=float, default=0.1)
    p.add_argument("--nu", type=float, default=0.05)
    p.add_argument("--min-images", type=int, default=10)
    p.add_argument("--engines", default="Production,ProductionEEVEE,ProductionPOVRay",
                   help="the production engines' render folders")
    p.add_argument("--held-out", help="the engines held out in turn (default: every one); "
                   "'A+B' holds out the folders A and B together (a scene generator's engines)")
    p.add_argument("--procedural", default="CgCycles,CgEEVEE,CgPOVRay",
                   help="render folders always in training ('' for none)")
    p.add_argument("--train", default="others",
                   help="production engines in training: others | none | N (every choice of N "
                   "of the other --held-out groups, a row each: how the number of generators "
                   "seen in training matters)")
    p.add_argument("--extra", help="another loso run's features folder whose render folders are "
                   "also scored by the models that hold out --extra-for (e.g. the ablation)")
    p.add_argument("--extra-for", default="Production")
    p.add_argument("--exclude-source", default="",
                   help="photograph sources left out of every fit and test (e.g. the texture "
                   "pool of --extra's renders)")
    a = p.parse_args()

    (names, nx, src), (rnames, rx) = features(a.features.split(","), a.source, a.natural_csv,
                                              a.exclude_source)
    folder = np.array([n.split("/")[0] for n in rnames])
    engines = [e for e in a.engines.split(",") if (folder == e).any()]
    held_out = [e.split("+") for e in (a.held_out or ",".join(engines)).split(",")]
    missing = [f for g in held_out for f in g if f not in engines]
    if missing:
        raise SystemExit(f"--held-out: {missing} are not render folders of --engines here")
    procedural = [x for x in a.procedural.split(",") if x]
    big = [s for s in sorted(set(src)) if (src == s).sum() >= a.min_images]
    if a.extra:
        xnames, xx = load(f"{a.extra}/renders-{a.source}")
        xfolder = np.array([n.split("/")[0] for n in xnames])
        xfolders = [f for f in dict.fromkeys(xfolder) if f != "Photos"]
    extra_rows = {}

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(
            C=a.c, max_iter=5000, class_weight="balanced"))

    print(f"{len(names)} photographs of {len(set(src))} sources; {len(big)} held out in turn "
          f"(at least {a.min_images} photographs); {a.source} features, C = {a.c}, nu = {a.nu}\n")
    print(f"| held out | trained with | AUC mean | AUC worst | NI recall mean | NI recall worst "
          f"| held-out renders called CG |")
    print("| --- | --- | --: | --: | --: | --: | --: |")
    def training_sets(out_group):
        """The production folders each model of this held-out group trains with."""
        if a.train == "others":
            return [[x for x in engines if x not in out_group]]
        if a.train == "none":
            return [[]]
        others = [g for g in held_out if g != out_group]
        k = int(a.train)
        if not 0 <= k <= len(others):
            raise SystemExit(f"--train {k}: between 0 and the {len(others)} other groups")
        return [[f for g in c for f in g] for c in itertools.combinations(others, k)]

    for out_group, chosen in ((g, t) for g in held_out for t in training_sets(g)):
        e = "+".join(out_group)
        train_folders = procedural + chosen
        rtr, rte = np.isin(folder, train_folders), np.isin(folder, out_group)
        aucs, recalls, called = [], [], []
        for s in big:
            tr = src != s
            x = np.concatenate([nx[tr], rx[rtr]])
            y = np.r_[np.zeros(tr.sum()), np.ones(rtr.sum())]
            # whole sources in folds; each render its own group
            g = np.r_[src[tr], [f"render{i}" for i in range(rtr.sum())]]
            oof = []
            for fit, held in GroupKFold(5).split(x, y, g):
                nat = held[y[held] == 0]
                oof.append(model().fit(x[fit], y[fit]).decision_function(x[nat]))
            t = np.quantile(np.concatenate(oof), 1 - a.nu)
            m = model().fit(x, y)
            sn, sr = m.decision_function(nx[~tr]), m.decision_function(rx[rte])
            aucs.append(roc_auc_score(np.r_[np.zeros(len(sn)), np.ones(len(sr))], np.r_[sn, sr]))
            recalls.append(float((sn <= t).mean()))
            called.append(float((sr > t).mean()))
            if a.extra and e == a.extra_for:
                sx = m.decision_function(xx)
                for f in xfolders:
                    v = sx[xfolder == f]
                    auc = roc_auc_score(np.r_[np.zeros(len(sn)), np.ones(len(v))], np.r_[sn, v])
                    extra_rows.setdefault(f, []).append((auc, float((v > t).mean())))
        trained = "+".join(train_folders)
        print(f"| {e} ({rte.sum()}) | {trained} | {np.mean(aucs):.3f} | {np.min(aucs):.3f} | "
              f"{np.mean(recalls):.3f} | {np.min(recalls):.3f} | {np.mean(called):.3f} |",
              flush=True)
    for f, vals in extra_rows.items():
        v = np.array(vals)
        print(f"| {a.extra_for} held out: {f} ({(xfolder == f).sum()}) | (the same models) | "
              f"{v[:, 0].mean():.3f} | {v[:, 0].min():.3f} | | | {v[:, 1].mean():.3f} |", flush=True)


if __name__ == "__main__":
    main()
