"""A test folder of dark photographs against a night generator's renders (docs/production.md, "Is
it the night, or the dark?"): every photograph of the Debian list (photo-sources/debian) whose key
(log-average luminance in linear light, brightness_baseline.py) is under --max-key, less the
sources given to --drop (the texture sources of any render set a detector trained on), and the
renders of one make.ts set, as a dataset folder for `deno task evaluate --test-data`.

    /usr/bin/python3 tasks/py/dark_test_folder.py --root /work/photos-debian \
        --set /work/production-campsite --folder Campsite --out /work/fresh-dark

Links OUT/Photos to --root and OUT/FOLDER to the set's render folder, writes OUT/dataset.csv
(photographs label 0, group = Debian package; renders label 1) and OUT/keys.csv (each image's
key). Leaves an existing OUT/dataset.csv alone, so a folder once scored is never rebuilt. A
listed photograph that is missing or cannot be read is named and left out.
"""

import argparse
import csv
import os
import sys

from brightness_baseline import key

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "../../../shared/data/photo-sources/debian/manifest.tsv")


def debian_photographs(root, manifest=MANIFEST, drop=""):
    """(path in the list, package, key) of each photograph of the Debian list under root, less
    the packages in `drop` (comma-separated); one that is missing or unreadable is named on
    stderr and left out."""
    dropped = set(filter(None, drop.split(",")))
    out = []
    for r in csv.DictReader(open(manifest), delimiter="\t"):
        if r["source"] in dropped:
            continue
        path = os.path.join(root, r["path"])
        try:
            out.append((r["path"], r["source"], key(path)))
        except Exception as e:  # noqa: BLE001 (any unreadable file is named and skipped)
            print(f"{path}: left out ({e})", file=sys.stderr)
    return out


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--root", required=True, help="the folder debian/fetch.sh filled")
    a.add_argument("--manifest", default=MANIFEST)
    a.add_argument("--max-key", type=float, default=0.02)
    a.add_argument("--drop", default="opencv-doc,qt5-quick-demos")
    a.add_argument("--set", required=True, help="a make.ts output folder")
    a.add_argument("--folder", required=True, help="its render folder (make.ts --label)")
    a.add_argument("--out", required=True)
    args = a.parse_args()
    if os.path.exists(f"{args.out}/dataset.csv"):
        print(f"{args.out}/dataset.csv exists: left as it is")
        return
    photos = [p for p in debian_photographs(args.root, args.manifest, args.drop)
              if p[2] < args.max_key]
    renders = [r for r in csv.DictReader(open(f"{args.set}/production.csv")) if r["Label"] != "0"]
    folder = f"{args.set}/{args.folder}"
    if not os.path.isdir(folder) or not renders:
        raise SystemExit(f"{folder}: no renders (make.ts --label {args.folder} writes them)")
    os.makedirs(args.out, exist_ok=True)
    for link, target in (("Photos", os.path.abspath(args.root)), (args.folder, os.path.abspath(folder))):
        path = f"{args.out}/{link}"
        if os.path.islink(path):
            os.remove(path)
        os.symlink(target, path)
    with open(f"{args.out}/keys.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Name", "Source", "Key"])
        out.writerows([f"Photos/{p}", s, f"{k:.5f}"] for p, s, k in photos)
    with open(f"{args.out}/dataset.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Name", "Label", "Group"])
        out.writerows([f"Photos/{p}", 0, s] for p, s, _ in photos)
        out.writerows([r["Name"], 1, r["Group"]] for r in renders)
    print(f"{os.path.basename(args.out)}: {len(photos)} photographs of "
          f"{len({s for _, s, _ in photos})} sources under key {args.max_key}, "
          f"{len(renders)} renders")


if __name__ == "__main__":
    main()
