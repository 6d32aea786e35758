#!/bin/bash
# The fifth generator's measurements (docs/production.md, "A fifth generator"): measurement 1's
# test folder, the natural lists less all five texture pools, the landscapes' features, leave one
# generator out of five by the number of generators in training, and which head catches the
# landscapes.
#
#   bash tasks/production/fifth_generator.sh [W]
#
# W (default /work) holds production-landscape (make.ts --generator landscape), production-gen4
# (tasks/production/leave_generator_out.sh), fresh (docs/independent-set.md) and head
# (tasks/production/head_data.py); it gets production-gen5/ and fresh-landscape/ (measurement 1's
# test set, built byte for byte as it was scored). Run from the repository root after
# leave_generator_out.sh (its runs prod-gen*, prod-new* hold the photographs' and the older
# sets' features). Prints the tables; writes runs/prod-land and runs/prod-land-mob (train-head
# runs, for their feature lists).
set -euo pipefail
W=${1:-/work}
mkdir -p "$W/production-gen5"
# measurement 1's test set (run `deno task evaluate --detector models/corpus-linear --test-data
# W/fresh-landscape` on it, once): the fresh set's photographs of the two sources that are not the
# landscapes' texture sources, and the landscapes
/usr/bin/python3 tasks/py/fresh_test_folder.py --work "$W" --set production-landscape \
  --folder Landscape --out "$W/fresh-landscape"
# natural images: the four-generator lists less the landscapes' texture sources
/usr/bin/python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
keep = {r["Name"] for r in csv.DictReader(open(f"{w}/production-landscape/loso-natural.csv"))}
for name in ("loso-natural.csv", "loso-natural-40.csv"):
    rows = [r for r in csv.DictReader(open(f"{w}/production-gen4/{name}")) if r["Name"] in keep]
    with open(f"{w}/production-gen5/{name}", "w", newline="") as f:
        out = csv.DictWriter(f, ["Name", "Label", "Group"])
        out.writeheader()
        out.writerows(rows)
    print(f"{name}: {len(rows)} photographs of {len({r['Group'] for r in rows})} sources")
PY
# twelve photographs of three sources: train-head needs photographs, and only its render lists
# (the landscapes' features, at JPEG 75 as every list here) are read below
/usr/bin/python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
rows = list(csv.DictReader(open(f"{w}/production-gen5/loso-natural-40.csv")))
few = [r for s in sorted({r["Group"] for r in rows})[:3] for r in rows if r["Group"] == s][:12]
with open(f"{w}/production-gen5/few.csv", "w", newline="") as f:
    out = csv.DictWriter(f, ["Name", "Label", "Group"])
    out.writeheader()
    out.writerows(few)
PY
for pair in residual:prod-land mobilenet:prod-land-mob; do
  [ -d "runs/${pair#*:}" ] || deno task train-head --natural runs/natural \
    --natural-csv "$W/production-gen5/few.csv" --renders "$W/production-landscape" \
    --renders-csv "$W/production-landscape/production.csv" --features "${pair%%:*}" \
    --match-compression 75 --name "${pair#*:}"
done
G="Production+ProductionEEVEE+ProductionPOVRay,Interior,Studio,Exterior,Landscape"
echo "## residual, every photograph"
/usr/bin/python3 tasks/py/generator_curve.py --source residual --groups "$G" \
  --features runs/prod-gen/features,runs/prod-new/features,runs/prod-land/features \
  --natural-csv "$W/production-gen5/loso-natural.csv"
echo "## mobilenet, at most 40 photographs a source"
/usr/bin/python3 tasks/py/generator_curve.py --source mobilenet --groups "$G" \
  --features runs/prod-gen-mob/features,runs/prod-new-mob/features,runs/prod-land-mob/features \
  --natural-csv "$W/production-gen5/loso-natural-40.csv"
echo "## which head catches the landscapes"
/usr/bin/python3 tasks/py/fresh_head_sets.py --test "$W/fresh-landscape" \
  --renders runs/prod-land-mob/features
