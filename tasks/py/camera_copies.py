"""Photographs through the renders' camera steps (docs/production.md, "Photographs through the
renders' camera steps in the head"): a draw of the Debian list's photographs, each passed through
one of post.py's camera steps (`camera`, `camera-pil`, `camera-cubic`, `camera-sharp`: resizing to
40-100 % and JPEG, as every production render ends), drawn per photograph, as a dataset folder.

    /usr/bin/python3 tasks/py/camera_copies.py --root /work/photos-debian --out /work/camera-copies

Draws --count photographs with --seed, at most --per-source of a package, of long side
--min-side or more and key --min-key or more (dark_test_folder.py's dark ones stay out), less the
packages of --drop. Writes OUT/CameraCopies/<n>.jpg (each with post.py's record beside it),
OUT/copies.csv (each copy's original and step) and OUT/dataset.csv (label 1, so that a
`train-head --renders OUT` run computes their head features; head_add_renders.py
--natural-folders CameraCopies adds them as photographs). Leaves an existing OUT/dataset.csv
alone.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys

from PIL import Image

from dark_test_folder import MANIFEST, debian_photographs

HERE = os.path.dirname(os.path.abspath(__file__))
POST = os.path.join(HERE, "../production/post.py")
CAMERAS = ("camera", "camera-pil", "camera-cubic", "camera-sharp")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--root", required=True, help="the folder debian/fetch.sh filled")
    a.add_argument("--manifest", default=MANIFEST)
    a.add_argument("--out", required=True)
    a.add_argument("--count", type=int, default=300)
    a.add_argument("--per-source", type=int, default=20)
    a.add_argument("--min-side", type=int, default=400)
    a.add_argument("--min-key", type=float, default=0.02)
    a.add_argument("--drop", default="opencv-doc,qt5-quick-demos")
    a.add_argument("--seed", type=int, default=0)
    args = a.parse_args()
    if os.path.exists(f"{args.out}/dataset.csv"):
        print(f"{args.out}/dataset.csv exists: left as it is")
        return
    rows = []
    for path, source, k in debian_photographs(args.root, args.manifest, args.drop):
        if k < args.min_key:
            continue
        with Image.open(os.path.join(args.root, path)) as im:
            if max(im.size) >= args.min_side:
                rows.append((path, source))
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    taken, per = [], {}
    for path, source in rows:
        if per.get(source, 0) < args.per_source and len(taken) < args.count:
            per[source] = per.get(source, 0) + 1
            taken.append((path, source))
    if len(taken) < args.count:
        print(f"only {len(taken)} photographs qualify", file=sys.stderr)
    folder = f"{args.out}/CameraCopies"
    os.makedirs(folder, exist_ok=True)
    jobs = [{"in": os.path.join(args.root, p), "out": f"{folder}/{i:04d}.jpg", "seed": args.seed * 100000 + i,
             "steps": [rng.choice(CAMERAS)]} for i, (p, _) in enumerate(taken)]
    with open(f"{args.out}/jobs.json", "w") as f:
        json.dump(jobs, f, indent=1)
    subprocess.run([sys.executable, POST, f"{args.out}/jobs.json"], check=True)
    with open(f"{args.out}/copies.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Name", "Original", "Package", "Step"])
        out.writerows([f"CameraCopies/{i:04d}.jpg", p, s, j["steps"][0]]
                      for i, ((p, s), j) in enumerate(zip(taken, jobs)))
    with open(f"{args.out}/dataset.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Name", "Label", "Group"])
        out.writerows([f"CameraCopies/{i:04d}.jpg", 1, s] for i, (_, s) in enumerate(taken))
    print(f"{os.path.basename(args.out)}: {len(taken)} photographs of {len(per)} packages, "
          f"steps {dict((c, sum(j['steps'][0] == c for j in jobs)) for c in CAMERAS)}")


if __name__ == "__main__":
    main()
