"""A dataset folder's renders saved as JPEG, as a camera or a renderer's user would save them
(docs/natural-corpus.md, "Colour: the camera's channels"): every image of label > 0 re-encoded by
Pillow at --quality with 4:2:0 subsampling (the default of most cameras and of Pillow), under the
same folder and name with .jpg, with a dataset.csv of the same labels. Photographs are left out.

    /usr/bin/python3 tasks/py/jpeg_renders.py ../shared/data/cgbench /work/cgbench-jpeg90

Refuses an OUT that holds a dataset.csv already.
"""

import argparse
import csv
import os
import sys

from PIL import Image


def main():
    a = argparse.ArgumentParser()
    a.add_argument("dataset", help="a folder with dataset.csv (Name,Label)")
    a.add_argument("out")
    a.add_argument("--quality", type=int, default=90)
    o = a.parse_args()
    if os.path.exists(os.path.join(o.out, "dataset.csv")):
        sys.exit(f"{o.out}/dataset.csv exists: choose another folder")
    rows = []
    with open(os.path.join(o.dataset, "dataset.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if int(r["Label"]) == 0:
                continue
            name = os.path.splitext(r["Name"])[0] + ".jpg"
            dst = os.path.join(o.out, name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try:
                im = Image.open(os.path.join(o.dataset, r["Name"])).convert("RGB")
            except OSError as e:
                sys.exit(f"{r['Name']}: cannot read ({e})")
            im.save(dst, quality=o.quality, subsampling="4:2:0")
            rows.append((name, r["Label"]))
    with open(os.path.join(o.out, "dataset.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Label"])
        w.writerows(rows)
    print(f"{len(rows)} renders saved as JPEG {o.quality} (4:2:0) under {o.out}")


if __name__ == "__main__":
    main()
