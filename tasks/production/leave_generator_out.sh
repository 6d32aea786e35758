#!/bin/bash
# Leave one scene generator out of four (docs/production.md, "A third and a fourth generator"):
# the natural images less every texture pool, the two newer sets' features, then the linear model
# of tasks/py/production_linear.py with each generator held out in turn, trained three ways, then
# with every choice of one and two of the other generators.
#
#   bash tasks/production/leave_generator_out.sh [W]
#
# W (default /work) holds the sets as docs/production.md makes them: production-interior,
# production-studio, production-exterior; it gets production-gen4/ (the natural lists) and
# production-new/ (the studio and street renders side by side). Run from the repository root,
# after the runs prod-gen and prod-gen-mob of "Another scene generator" (their feature caches
# hold the photographs and the older sets' renders). Prints the tables; writes runs/prod-new*.
set -euo pipefail
W=${1:-/work}
mkdir -p "$W/production-gen4"
# natural images: the corpus less every texture pool (the rows every set's list keeps), and the
# same for the 40-per-source list of the mobilenet rows
/usr/bin/python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
def names(f):
    return {r["Name"] for r in csv.DictReader(open(f))}
keep = set.intersection(*(names(f"{w}/production-{s}/loso-natural.csv")
                          for s in ("interior", "studio", "exterior")))
for src, dst in (("loso-natural.csv", "loso-natural.csv"), ("loso-natural-40.csv", "loso-natural-40.csv")):
    rows = [r for r in csv.DictReader(open(f"{w}/production-interior/{src}")) if r["Name"] in keep]
    with open(f"{w}/production-gen4/{dst}", "w", newline="") as f:
        out = csv.DictWriter(f, ["Name", "Label", "Group"])
        out.writeheader()
        out.writerows(rows)
    print(f"{dst}: {len(rows)} photographs of {len({r['Group'] for r in rows})} sources")
PY
deno run --allow-read --allow-write tasks/production/combine.ts --out "$W/production-new" \
  "$W/production-studio/production.csv" "$W/production-exterior/production.csv"
# a dataset needs a photograph (label 0): one of the corpus's, which loso reads as natural only
ln -sfn "$PWD/runs/natural/bsds500" "$W/production-new/Photos"
/usr/bin/python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
rows = [r for r in csv.DictReader(open(f"{w}/production-new/dataset.csv")) if r["Label"] != "0"]
photo = next(r["Name"] for r in csv.DictReader(open("runs/natural/dataset.csv"))
             if r["Name"].startswith("bsds500/"))
with open(f"{w}/production-new/renders.csv", "w", newline="") as f:
    out = csv.DictWriter(f, ["Name", "Label", "Group"])
    out.writeheader()
    out.writerow({"Name": "Photos/" + photo[len("bsds500/"):], "Label": 0, "Group": "bsds500"})
    out.writerows(rows)
PY
R="--renders $W/production-new --renders-csv $W/production-new/renders.csv --match-compression 75"
R="$R --oneclass gauss --threshold train --held-out big"
deno task loso --natural runs/natural $R --features residual,profile \
  --feature-cache runs/prod-gen/features --name prod-new
deno task loso --natural runs/natural --natural-csv "$W/production-interior/loso-natural-40.csv" $R \
  --features mobilenet --feature-cache runs/prod-gen-mob/features --name prod-new-mob
G="Production+ProductionEEVEE+ProductionPOVRay,Interior,Studio,Exterior"
E="Production,ProductionEEVEE,ProductionPOVRay,Interior,Studio,Exterior"
linear() { # features folders, natural list, source, then how to train
  /usr/bin/python3 tasks/py/production_linear.py --features "$1" --natural-csv "$2" --source "$3" \
    --c 0.1 --engines "$E" --held-out "$G" "${@:4}"
}
for how in others none only; do
  case $how in
    others) t=() ;;                 # the procedural renders and the other generators' production
    none) t=(--train none) ;;       # the procedural renders only
    only) t=(--procedural "") ;;    # the other generators' production renders only
  esac
  for src in residual profile; do
    echo "## $src, trained with: $how"
    linear runs/prod-gen/features,runs/prod-new/features "$W/production-gen4/loso-natural.csv" \
      "$src" "${t[@]}"
  done
  for src in residual mobilenet; do
    f=runs/prod-gen/features,runs/prod-new/features
    [ "$src" = mobilenet ] && f=runs/prod-gen-mob/features,runs/prod-new-mob/features
    echo "## $src (at most 40 photographs a source), trained with: $how"
    linear "$f" "$W/production-gen4/loso-natural-40.csv" "$src" "${t[@]}"
  done
done
# the number of generators in training: every choice of 1 and of 2 of the other three (with the
# procedural renders), a row each
for k in 1 2; do
  for src in residual mobilenet; do
    f=runs/prod-gen/features,runs/prod-new/features
    [ "$src" = mobilenet ] && f=runs/prod-gen-mob/features,runs/prod-new-mob/features
    echo "## $src (at most 40 photographs a source), trained with $k other generator(s)"
    linear "$f" "$W/production-gen4/loso-natural-40.csv" "$src" --train "$k"
  done
done
