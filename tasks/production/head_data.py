"""The training data of models/corpus-linear's head (its model card, "Rebuild"), as files:

- OUT/natural.csv: the photographs of the verdict protocol (docs/natural-corpus.md, "The verdict
  under LOSO": the corpus less every texture pool and cgbench's photographs) less the four sources
  of the fresh independent set (docs/independent-set.md), with their Group;
- OUT/dataset.csv and one link per render folder: cgbench's procedural renders and the four
  production generators' renders, each folder its own label, read from the datasets
  docs/production.md builds (W/production-gen: cgbench's and the first generator's sets and the
  rooms; W/production-new: the still lifes and streets).

    /usr/bin/python3 tasks/production/head_data.py /work/head /work

Reads W/verdict/natural.csv and W/fresh/held-out.txt; writes only under OUT.
"""

import csv
import os
import sys

ORDER = ["CgCycles", "CgEEVEE", "CgPOVRay", "Production", "ProductionEEVEE", "ProductionPOVRay",
         "Interior", "Studio", "Exterior"]


def main():
    out, w = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(f"{w}/fresh/held-out.txt") as f:
        drawn = next(l for l in f if l.startswith("drawn with"))
    fresh = {s.strip() for s in drawn.rsplit(":", 1)[1].split(",")}
    with open(f"{w}/verdict/natural.csv") as f:
        photos = [r for r in csv.DictReader(f) if r["Group"] not in fresh]
    with open(f"{out}/natural.csv", "w", newline="") as f:
        o = csv.DictWriter(f, ["Name", "Label", "Group"])
        o.writeheader()
        o.writerows(photos)
    renders = []
    for d in ("production-gen", "production-new"):
        root = f"{w}/{d}"
        with open(f"{root}/dataset.csv") as f:
            for r in csv.DictReader(f):
                folder = r["Name"].split("/")[0]
                if r["Label"] != "0" and folder in ORDER:
                    renders.append(r["Name"])
                    link = f"{out}/{folder}"
                    if not os.path.islink(link):
                        os.symlink(os.path.realpath(f"{root}/{folder}"), link)
    renders = sorted(set(renders), key=lambda n: (ORDER.index(n.split("/")[0]), n))
    with open(f"{out}/dataset.csv", "w", newline="") as f:
        o = csv.writer(f)
        o.writerow(["Name", "Label", "Group"])
        for n in renders:
            o.writerow([n, ORDER.index(n.split("/")[0]) + 1, n])
    print(f"{out}: {len(photos)} photographs of {len({r['Group'] for r in photos})} sources, "
          f"{len(renders)} renders")


if __name__ == "__main__":
    main()
