"""Which photographs a LOSO run's one-class models flag (docs/natural-corpus.md, "What the
flagged photographs share"): each held-out photograph's smooth share (the share of its 32-px
patches (stride 32), on a copy brought down to a short side of 512 px (luminance (R+G+B)/3 as
`profile` reads it, but resized with PIL's Lanczos filter where `profile` uses a triangle one, and
no patch left out), whose fine-scale residual (luminance less its 3 x 3 mean) has a standard
deviation under --flat grey levels),
against whether its source's model flagged it (score above 0 or a check failed). Then the same
share for each renderer's renders: what calling smooth images "unsure" would cost.

    /usr/bin/python3 tasks/py/smooth_share.py runs/loso-profile-v2-scores [--flat 1.0] [--worst 2] [--out CSV]
    /usr/bin/python3 tasks/py/smooth_share.py runs/loso-profile-v2-scores --flat-cue SHARES.csv
    /usr/bin/python3 tasks/py/smooth_share.py runs/loso-profile-v2-scores --noise-cue SHARES.csv \
        [--renders-as /work/cgbench-jpeg90]

Reads the run's scores.csv (of one features x model cell) and results.json (which name the corpus
and the renders' dataset);
--out writes every image's share (image, label, share; every photograph of the corpus, held out
or not, and every render, named as in their dataset.csv files). --flat-cue SHARES.csv (that file)
asks instead whether the flat patches of smooth images (share at least 0.5) tell photographs from
renders: at full resolution, in the green channel, the share of horizontally adjacent pixels that
are equal, that differ by one, and the mean difference, with each one's AUC. --noise-cue asks
whether their noise depends on brightness as a camera's does (shot noise: more noise in brighter
regions; a rasteriser's dither or flat shading: none, or the same everywhere): at full resolution,
in luminance, over the flattest quarter of each smooth image's 32-px patches (stride 32; means in
[10, 245]), the median residual deviation (the noise floor) and the slope of log(deviation + 0.05)
on the patch mean over 255 (least squares), with each one's AUC. --renders-as DIR reads each render
from DIR instead (the same renders saved otherwise by jpeg_renders.py, named in the same order), so
that the cue is also judged on renders that went through JPEG as the photographs did.
"""

import argparse
import csv
import json
import os

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter
from scipy.stats import spearmanr

BINS = [(0, 0.05), (0.05, 0.2), (0.2, 0.5), (0.5, 1.0001)]


def smooth_share(path, flat):
    """The share of 32-px patches (stride 32) whose fine-scale residual is flatter than `flat`."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = 512 / min(w, h)
    if s < 1:
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    a = np.asarray(im, dtype=np.float64).mean(axis=2)
    r = a - uniform_filter(a, 3)
    sds = [r[y:y + 32, x:x + 32].std()
           for y in range(0, a.shape[0] - 31, 32) for x in range(0, a.shape[1] - 31, 32)]
    return float(np.mean(np.array(sds) < flat)) if sds else 1.0


def flat_cue(path, flat):
    """In the flat 32-px patches at full resolution: the shares of adjacent differences 0 and ±1."""
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)[:, :, 1]
    f = a.astype(np.float64)
    r = f - uniform_filter(f, 3)
    dx = a[:, 1:] - a[:, :-1]
    out = [[(d == 0).mean(), (np.abs(d) == 1).mean(), np.abs(d).mean()]
           for y in range(0, a.shape[0] - 31, 32) for x in range(0, a.shape[1] - 32, 32)
           if r[y:y + 32, x:x + 32].std() < flat
           for d in [dx[y:y + 32, x:x + 31]]]
    return np.mean(out, axis=0) if out else None


def noise_cue(path):
    """The noise floor and its slope on brightness in the flattest quarter of an image's patches."""
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64).mean(axis=2)
    r = a - uniform_filter(a, 3)
    p = [(a[y:y + 32, x:x + 32].mean(), r[y:y + 32, x:x + 32].std())
         for y in range(0, a.shape[0] - 31, 32) for x in range(0, a.shape[1] - 31, 32)]
    p = np.array([q for q in p if 10 <= q[0] <= 245])
    if len(p) < 8:
        return None
    p = p[p[:, 1] <= np.quantile(p[:, 1], 0.25)]
    mu, sd = p[:, 0] / 255, p[:, 1]
    slope = np.polyfit(mu, np.log(sd + 0.05), 1)[0] if np.ptp(mu) > 0.02 else 0.0
    return np.array([np.median(sd), slope])


def noise_cues(info, shares, renders_as):
    """Prints whether the smooth images' noise depends on brightness, by label."""
    from sklearn.metrics import roc_auc_score
    swap = {}
    if renders_as:  # the k-th render of each label in the original is the k-th in the copy
        def names(root):
            by = {}
            for x in csv.DictReader(open(os.path.join(root, "dataset.csv"))):
                if x["Label"] != "0":
                    by.setdefault(x["Label"], []).append(x["Name"])
            return by
        orig, copy = names(info["renders"]), names(renders_as)
        swap = {o: os.path.join(renders_as, c) for lab in orig for o, c in zip(orig[lab], copy[lab])}
    rows = []
    for x in csv.DictReader(open(shares)):
        if float(x["share"]) < 0.5:
            continue
        root = info["natural"] if x["label"] == "0" else info["renders"]
        path = swap.get(x["image"], os.path.join(root, x["image"])) if x["label"] != "0" else \
            os.path.join(root, x["image"])
        c = noise_cue(path)
        if c is not None:
            rows.append((int(x["label"]), c))
    lab = np.array([l for l, _ in rows])
    names = ["photographs"] + [r["name"] for r in info["renderers"]]
    print(f"{len(rows)} smooth images: " + ", ".join(f"{(lab == l).sum()} {n}" for l, n in enumerate(names)))
    print(f"renders read from {renders_as or info['renders']}\n")
    print("| in the flattest patches | AUC (renders higher) | " + " | ".join(names) + " (medians) |")
    print("| --- | ---: |" + " ---: |" * len(names))
    for k, what in enumerate(["noise floor", "slope on brightness"]):
        v = np.array([c[k] for _, c in rows])
        meds = [np.median(v[lab == l]) if (lab == l).any() else float("nan") for l in range(len(names))]
        print(f"| {what} | {roc_auc_score(lab > 0, v):.2f} | " + " | ".join(f"{m:.3f}" for m in meds) + " |")


def flat_cues(info, shares, flat):
    """Prints how the flat patches of the smooth images in `shares` differ, by label."""
    from sklearn.metrics import roc_auc_score
    rows = []
    for x in csv.DictReader(open(shares)):
        if float(x["share"]) < 0.5:
            continue
        root = info["natural"] if x["label"] == "0" else info["renders"]
        c = flat_cue(os.path.join(root, x["image"]), flat)
        if c is not None:
            rows.append((int(x["label"]), c))
    lab = np.array([l for l, _ in rows])
    counts = ", ".join(f"{(lab == l).sum()} {n}" for l, n in
                       enumerate(["photographs"] + [r["name"] for r in info["renderers"]]))
    print(f"{len(rows)} smooth images: {counts}\n")
    print("| in flat patches | AUC (renders higher) | " +
          " | ".join(["photographs"] + [r["name"] for r in info["renderers"]]) + " (medians) |")
    print("| --- | ---: |" + " ---: |" * (1 + len(info["renderers"])))
    for k, what in enumerate(["equal neighbours", "neighbours one apart", "mean difference"]):
        v = np.array([c[k] for _, c in rows])
        meds = [np.median(v[lab == l]) if (lab == l).any() else float("nan")
                for l in range(len(info["renderers"]) + 1)]
        print(f"| {what} | {roc_auc_score(lab > 0, v):.2f} | " + " | ".join(f"{m:.2f}" for m in meds) + " |")


def main():
    """The table of flagged shares by smooth share, the worst sources' photographs, the renders."""
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--flat", type=float, default=1.0)
    ap.add_argument("--worst", type=int, default=2, help="list the flagged photographs of this many worst sources")
    ap.add_argument("--out", help="write every image's smooth share here")
    ap.add_argument("--flat-cue", help="a SHARES.csv of --out: the flat patches of smooth images")
    ap.add_argument("--noise-cue", help="a SHARES.csv of --out: the smooth images' noise on brightness")
    ap.add_argument("--renders-as", help="with --noise-cue: read the renders from this copy")
    a = ap.parse_args()
    info = json.load(open(os.path.join(a.run, "results.json")))
    if a.flat_cue:
        return flat_cues(info, a.flat_cue, a.flat)
    if a.noise_cue:
        return noise_cues(info, a.noise_cue, a.renders_as)
    rows = list(csv.DictReader(open(os.path.join(a.run, "scores.csv"))))
    cells = {(r["features"], r["model"]) for r in rows}
    if len(cells) != 1:
        raise SystemExit(f"{a.run}/scores.csv holds {len(cells)} features x model cells: one is read")
    flagged = np.array([float(r["score"]) > 0 or r["checks"] != "" for r in rows])
    score = np.array([float(r["score"]) for r in rows])
    share = np.array([smooth_share(os.path.join(info["natural"], r["image"]), a.flat) for r in rows])
    print(f"{len(rows)} held-out photographs, {flagged.sum()} flagged; Spearman of score and smooth "
          f"share {spearmanr(score, share)[0]:.2f}; median smooth share flagged {np.median(share[flagged]):.2f}, "
          f"kept {np.median(share[~flagged]):.2f}\n")
    print("| smooth share | photographs | flagged |\n| --- | ---: | ---: |")
    for lo, hi in BINS:
        m = (share >= lo) & (share < hi)
        print(f"| [{lo}, {min(hi, 1):g}{']' if hi > 1 else ')'} | {m.sum()} | "
              f"{flagged[m].mean() if m.any() else float('nan'):.3f} |")
    by = {}
    for r, f, s in zip(rows, flagged, share):
        by.setdefault(r["source"], []).append((f, s, r["image"]))
    worst = sorted(by, key=lambda k: np.mean([f for f, _, _ in by[k]]), reverse=True)[: a.worst]
    print()
    for src in worst:
        for f, s, name in sorted(by[src], key=lambda t: -t[1]):
            print(f"- {src}: {'flagged' if f else 'kept   '} smooth {s:.2f}  {name}")
    ren = list(csv.DictReader(open(os.path.join(info["renders"], "dataset.csv"))))
    print("\n| renders | images | median smooth share | share ≥ 0.5 |\n| --- | ---: | ---: | ---: |")
    labels = sorted({int(x["Label"]) for x in ren if x["Label"] != "0"})
    out = [(r["image"], 0, s) for r, s in zip(rows, share)]
    if a.out:  # the photographs never held out (sources under 10) are in the fits too
        done = {r["image"] for r in rows}
        for x in csv.DictReader(open(os.path.join(info["natural"], "dataset.csv"))):
            if x["Name"] not in done:
                out.append((x["Name"], 0, smooth_share(os.path.join(info["natural"], x["Name"]), a.flat)))
    for k, lab in enumerate(labels):
        mine = [x["Name"] for x in ren if int(x["Label"]) == lab]
        s = np.array([smooth_share(os.path.join(info["renders"], m), a.flat) for m in mine])
        out += [(m, lab, v) for m, v in zip(mine, s)]
        name = info["renderers"][k]["name"] if k < len(info.get("renderers", [])) else str(lab)
        print(f"| {name} | {len(s)} | {np.median(s):.2f} | {(s >= 0.5).mean():.2f} |")
    if a.out:
        with open(a.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image", "label", "share"])
            w.writerows([(m, lab, f"{v:.4f}") for m, lab, v in out])


if __name__ == "__main__":
    main()
