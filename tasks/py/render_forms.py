"""One render dataset holding several forms of the same renders (docs/natural-corpus.md, "A head
held out by source and by renderer"): the renders (label > 0) of each dataset given, linked (or
copied) under `RENDERER/FORM/...` of OUT with their labels, so that a renderer held out takes
every form of its renders with it, and a head fitted on the others sees each of their renders in
every form (a JPEG history alone then does not tell the classes apart). Photographs are left out.

    /usr/bin/python3 tasks/py/render_forms.py /work/cgbench-3forms \\
      as-is=../shared/data/cgbench jpeg90=/work/cgbench-jpeg90 mixed=/work/cgbench-mixed

Each dataset is a folder with dataset.csv (Name,Label) whose names start with the renderer's
folder (cgbench's layout, and jpeg_renders.py's). Refuses an OUT that holds a dataset.csv already.
"""

import csv
import os
import shutil
import sys


def main():
    if len(sys.argv) < 3 or any("=" not in x for x in sys.argv[2:]):
        sys.exit(__doc__)
    out = sys.argv[1]
    if os.path.exists(os.path.join(out, "dataset.csv")):
        sys.exit(f"{out}/dataset.csv exists: choose another folder")
    rows = []
    for spec in sys.argv[2:]:
        form, root = spec.split("=", 1)
        with open(os.path.join(root, "dataset.csv"), newline="") as f:
            for r in csv.DictReader(f):
                if r["Label"] == "0":
                    continue
                top, rest = r["Name"].split("/", 1)
                name = f"{top}/{form}/{rest}"
                dst = os.path.join(out, name)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                try:
                    os.link(os.path.join(root, r["Name"]), dst)
                except OSError:
                    shutil.copy2(os.path.join(root, r["Name"]), dst)
                rows.append((name, r["Label"]))
    with open(os.path.join(out, "dataset.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Name", "Label"])
        w.writerows(rows)
    print(f"{len(rows)} renders in {len(sys.argv) - 2} forms under {out}")


if __name__ == "__main__":
    main()
