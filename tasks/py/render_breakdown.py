"""What a detector calls a generator's renders, by what each render's record says was drawn: which
aspects of a scene or its finish go with renders passing as photographs (docs/production.md, "What
the seventh generator showed").

    /usr/bin/python3 tasks/py/render_breakdown.py \
        --results runs/detectors/corpus-rbf5-fresh-night/results.json --set /work/production-night \
        --keys camera.view,camera.dof,motion_blur.on,world.kind,look.look,cars:len

--results is an evaluation's results.json (`deno task evaluate --detector D --test-data DIR`); its
images named FOLDER/folder_SEED.jpg are the set's renders (make.ts), whose scene record is
SET/renders/full/seed-SEED.png.json and whose finish record is SET/FOLDER/folder_SEED.jpg.json.
A key is a dotted path into the scene record (`:len` counts a list), or `image:luma`, the mean
luminance (0-255) of the file scored; numbers are split at their median (a render without the
key, e.g. a focus distance without depth of field, is a group of its own: "None"). Each post.py step the finish may or may not run is a key of its own ("post:STEP").
Prints, per key and value: the renders, the share called computer-generated with its 95 %
Wilson interval, and the AUC of those renders against every photograph of the evaluation, by
the fused score and by the head's p(CG) (how well each group is ranked, where the verdicts are
all alike). 100 renders make wide intervals: differences within them are not findings.
"""

import argparse
import json
import math
import os
import re
import statistics

from PIL import Image
from sklearn.metrics import roc_auc_score


def wilson(k, n, z=1.96):
    """The 95 % Wilson score interval of k successes in n."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def auc(renders, photos):
    """The AUC of renders (positives) against photographs by a score."""
    return roc_auc_score([1] * len(renders) + [0] * len(photos), [*renders, *photos])


def lookup(record, key):
    """The value at a dotted path of `record`; `path:len` is the length of a list there."""
    if key == "image:luma":
        return record["image:luma"]
    path, _, op = key.partition(":")
    value = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return len(value) if op == "len" and value is not None else value


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--results", required=True)
    a.add_argument("--set", required=True, help="the make.ts output folder of the renders")
    a.add_argument("--keys", required=True, help="comma-separated dotted paths (path:len)")
    args = a.parse_args()
    ev = json.load(open(args.results))
    rows = []
    photos = [img for img in ev["images"] if img["label"] == 0]
    for img in ev["images"]:
        m = re.fullmatch(r"([^/]+)/[^/]+_(\d+)\.jpg", img["name"])
        if img["label"] == 0 or not m:
            continue
        scene = json.load(open(f"{args.set}/renders/full/seed-{m[2]}.png.json"))
        finish = json.load(open(f"{args.set}/{img['name']}.json"))
        rows.append((img, scene, finish))
    if not rows:
        raise SystemExit(f"{args.results}: no renders named FOLDER/folder_SEED.jpg")
    steps = sorted({s for _, _, f in rows for s in f["order"]})
    keys = args.keys.split(",") + [f"post:{s}" for s in steps]
    if "image:luma" in keys:
        for img, scene, _ in rows:
            with Image.open(f"{args.set}/{img['name']}") as im:
                scene["image:luma"] = statistics.fmean(im.convert("L").getdata())
    print(f"{len(rows)} renders of {os.path.basename(args.set)}, detector {ev['detector']}, "
          f"rule {ev['rule']}: {sum(r[0]['verdict'] == 'computer-generated' for r in rows)} "
          f"called computer-generated")
    print("| key | value | renders | called CG [95 %] | AUC, fused | AUC, head |")
    print("| --- | --- | --: | --- | --: | --: |")
    for key in keys:
        if key.startswith("post:"):
            values = [key[5:] in f["order"] for _, _, f in rows]
        else:
            values = [lookup(s, key) for _, s, _ in rows]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(set(numbers)) > 4 and all(v is None or v in numbers for v in values):
            cut = statistics.median(numbers)
            values = [v if v is None else f"> {cut:.3g}" if v > cut else f"<= {cut:.3g}"
                      for v in values]
        for value in sorted(set(map(str, values))):
            group = [r for r, v in zip(rows, values) if str(v) == value]
            k = sum(img["verdict"] == "computer-generated" for img, _, _ in group)
            lo, hi = wilson(k, len(group))
            ranks = [auc([img[field] for img, _, _ in group], [p[field] for p in photos])
                     if field in photos[0] else math.nan for field in ("fused", "pCg")]
            print(f"| {key} | {value} | {len(group)} | {k / len(group):.2f} [{lo:.2f}, {hi:.2f}]"
                  f" | {ranks[0]:.3f} | {ranks[1]:.3f} |")


if __name__ == "__main__":
    main()
