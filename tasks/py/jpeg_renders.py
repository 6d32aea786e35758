"""A dataset folder's renders saved as JPEG, as a camera or a renderer's user would save them
(docs/natural-corpus.md, "Colour: the camera's channels"): every image of label > 0 re-encoded by
Pillow at --quality with 4:2:0 subsampling (the default of most cameras and of Pillow), under the
same folder and name with .jpg, with a dataset.csv of the same labels. Photographs are left out.

With --mix SEED, each render is saved one of seven ways instead, drawn per render with Python's
random.Random(SEED) in the CSV's order: as PNG, or as JPEG 95, 90 or 75 with 4:2:0 or 4:4:4
subsampling; ways.csv records each render's way ("What one JPEG quality did": a test that no single
matching quality coincides with).

    /usr/bin/python3 tasks/py/jpeg_renders.py ../shared/data/cgbench /work/cgbench-jpeg90
    /usr/bin/python3 tasks/py/jpeg_renders.py ../shared/data/cgbench /work/cgbench-mixed --mix 0

Refuses an OUT that holds a dataset.csv already.
"""

import argparse
import csv
import os
import random
import sys

from PIL import Image

WAYS = ["png"] + [f"jpeg{q}-{s}" for q in (95, 90, 75) for s in ("420", "444")]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("dataset", help="a folder with dataset.csv (Name,Label)")
    a.add_argument("out")
    a.add_argument("--quality", type=int, default=90)
    a.add_argument("--mix", type=int, help="seed: each render saved one of seven ways")
    o = a.parse_args()
    if os.path.exists(os.path.join(o.out, "dataset.csv")):
        sys.exit(f"{o.out}/dataset.csv exists: choose another folder")
    rng = random.Random(o.mix) if o.mix is not None else None
    rows, ways = [], []
    with open(os.path.join(o.dataset, "dataset.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if int(r["Label"]) == 0:
                continue
            way = rng.choice(WAYS) if rng else f"jpeg{o.quality}-420"
            stem = os.path.splitext(r["Name"])[0]
            name = stem + (".png" if way == "png" else ".jpg")
            dst = os.path.join(o.out, name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try:
                im = Image.open(os.path.join(o.dataset, r["Name"])).convert("RGB")
            except OSError as e:
                sys.exit(f"{r['Name']}: cannot read ({e})")
            if way == "png":
                im.save(dst)
            else:
                q, sub = way[4:].split("-")
                im.save(dst, quality=int(q), subsampling="4:2:0" if sub == "420" else "4:4:4")
            rows.append((name, r["Label"]))
            ways.append((name, way))
    with open(os.path.join(o.out, "dataset.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Label"])
        w.writerows(rows)
    if rng:
        with open(os.path.join(o.out, "ways.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["Name", "Way"])
            w.writerows(ways)
        counts = {x: sum(1 for _, y in ways if y == x) for x in WAYS}
        print(f"{len(rows)} renders saved seven ways under {o.out}: {counts}")
    else:
        print(f"{len(rows)} renders saved as JPEG {o.quality} (4:2:0) under {o.out}")


if __name__ == "__main__":
    main()
