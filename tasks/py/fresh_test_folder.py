"""A fresh test folder for one production-like generator (docs/production.md, "A fifth generator"
and "a sixth by another hand"): the fresh set's photographs of `polyu` and `u45` (no texture pool
and no fit of the shipped detectors holds them) and one generator's renders, as a dataset folder
for `deno task evaluate --test-data`.

    /usr/bin/python3 tasks/py/fresh_test_folder.py --work /work --set production-landscape \
        --folder Landscape --out /work/fresh-landscape

Links OUT/Photos to the corpus (runs/natural) and OUT/FOLDER to the set's render folder, and
writes OUT/dataset.csv (photographs, label 0; renders, label 1). Leaves an existing
OUT/dataset.csv alone, so a folder once scored is never rebuilt.
"""

import argparse
import csv
import os

SOURCES = ("polyu", "u45")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--work", default="/work", help="holds fresh/ (docs/independent-set.md)")
    a.add_argument("--set", required=True, help="the make.ts output folder, under --work")
    a.add_argument("--folder", required=True, help="its render folder (make.ts --label)")
    a.add_argument("--out", required=True)
    a.add_argument("--natural", default="runs/natural")
    args = a.parse_args()
    if os.path.exists(f"{args.out}/dataset.csv"):
        print(f"{args.out}/dataset.csv exists: left as it is")
        return
    folder = f"{args.work}/{args.set}/{args.folder}"
    renders = [r for r in csv.DictReader(open(f"{args.work}/{args.set}/production.csv"))
               if r["Label"] != "0"]
    if not os.path.isdir(folder) or not renders:
        raise SystemExit(f"{folder}: no renders (make.ts --label {args.folder} writes them)")
    os.makedirs(args.out, exist_ok=True)
    for link, target in (("Photos", os.path.abspath(args.natural)),
                         (args.folder, folder)):
        path = f"{args.out}/{link}"
        if os.path.islink(path):
            os.remove(path)
        os.symlink(target, path)
    photos = [r for r in csv.DictReader(open(f"{args.work}/fresh/dataset.csv"))
              if r["Label"] == "0" and r["Group"] in SOURCES]
    with open(f"{args.out}/dataset.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Name", "Label", "Group"])
        out.writerows([r["Name"], 0, r["Group"]] for r in photos)
        out.writerows([r["Name"], 1, r["Group"]] for r in renders)
    print(f"{os.path.basename(args.out)}: {len(photos)} photographs, {len(renders)} renders")


if __name__ == "__main__":
    main()
