#!/bin/bash
# Night in the head's training (docs/production.md): the shipped kernel head fitted again on its
# support vectors and 70 night renders of two training generators (rooms, landscapes), or the same
# 70 scenes by day, or nothing, each scored on the seventh generator's night streets.
#
#   bash tasks/production/night_in_training.sh [W]
#
# W (default /work) holds the night streets' test folder, W/fresh-night (score_generator.sh
# production-night Night writes it), and receives the renders (W/production-{lnight,inight,lday,
# iday}), the detectors (W/det-{sv,night,day}) and the logs. Run from the repository root; make.ts
# keeps renders already made. Results: runs/detectors/det-{sv,night,day}-fresh-night/results.md.
set -euo pipefail
W=${1:-/work}
[ -f "$W/fresh-night/dataset.csv" ] || { echo "$W/fresh-night: run score_generator.sh first" >&2; exit 1; }
mk() { # OUT GENERATOR COUNT LABEL FIRST-SEED
  deno run --allow-read --allow-write --allow-run tasks/production/make.ts --out "$W/$1" \
    --sources "$W/natural-src" --natural runs/natural --generator "$2" --count "$3" --samples 32 \
    --photos 0 --jobs 2 --label "$4" --first-seed "$5" > "$W/$1.log" 2>&1
}
mk production-lnight landscape-night 40 LandscapeNight 17500
mk production-inight interior-night 30 InteriorNight 11500
mk production-lday landscape 40 LandscapeDay 17500
mk production-iday interior 30 InteriorDay 11500

# the renders' head features (mobilenet of the image re-encoded as JPEG 75, as the head reads it):
# a train-head run on the four folders and 12 of cgbench's photographs, of which only the cache is
# read
T="$W/train-night"
mkdir -p "$T"
{
  echo "Name,Label,Group"
  for f in LandscapeNight:production-lnight InteriorNight:production-inight \
    LandscapeDay:production-lday InteriorDay:production-iday; do
    ln -sfn "$W/${f#*:}/${f%%:*}" "$T/${f%%:*}"
    for img in "$T/${f%%:*}"/*.jpg; do echo "${f%%:*}/$(basename "$img"),1,${f%%:*}"; done
  done
} > "$T/dataset.csv"
CG=../shared/data/cgbench
{ echo "Name,Label,Group"; grep '^Photos/' "$CG/dataset.csv" | head -12 | cut -d, -f1 |
  awk '{print $0 ",0," NR % 3}'; } > "$T/photos.csv"
deno task train-head --natural "$CG" --natural-csv "$T/photos.csv" --renders "$T" \
  --features mobilenet --match-compression 75 --name feat-night > "$W/feat-night.log" 2>&1
F=runs/feat-night/features
/usr/bin/python3 tasks/py/head_add_renders.py --out "$W/det-sv"
/usr/bin/python3 tasks/py/head_add_renders.py --features $F --folders LandscapeNight,InteriorNight \
  --out "$W/det-night"
/usr/bin/python3 tasks/py/head_add_renders.py --features $F --folders LandscapeDay,InteriorDay \
  --out "$W/det-day"

# each scored once, two at a time
rc=0 pids=()
for d in det-sv det-night det-day; do
  [ -f "runs/detectors/$d-fresh-night/results.md" ] && continue
  deno task evaluate --detector "$W/$d" --test-data "$W/fresh-night" --no-controls \
    > "$W/eval-$d.log" 2>&1 &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || rc=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ "$rc" = 0 ] || { echo "an evaluation failed: see $W/eval-*.log" >&2; exit 1; }
for d in det-sv det-night det-day; do
  echo "## $d"; sed -n '/^| test renderer/,/^$/p;/^| class/,/^$/p' "runs/detectors/$d-fresh-night/results.md"
done
# the night head against the control, image by image; the toolkit's refit against scikit-learn's
/usr/bin/python3 tasks/py/paired_auc.py runs/detectors/det-night-fresh-night \
  runs/detectors/det-day-fresh-night
for f in night:LandscapeNight,InteriorNight day:LandscapeDay,InteriorDay; do
  deno run --allow-read tasks/refit_parity.ts models/corpus-rbf5 $F "${f#*:}" "$W/det-${f%%:*}"
done
