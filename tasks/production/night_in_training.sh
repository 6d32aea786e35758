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
source tasks/production/_lib.sh
make_set production-lnight landscape-night 40 LandscapeNight 17500
make_set production-inight interior-night 30 InteriorNight 11500
make_set production-lday landscape 40 LandscapeDay 17500
make_set production-iday interior 30 InteriorDay 11500

# the renders' head features
head_features "$W/train-night" feat-night LandscapeNight:production-lnight \
  InteriorNight:production-inight LandscapeDay:production-lday InteriorDay:production-iday
F=runs/feat-night/features
/usr/bin/python3 tasks/py/head_add_renders.py --out "$W/det-sv"
/usr/bin/python3 tasks/py/head_add_renders.py --features $F --folders LandscapeNight,InteriorNight \
  --out "$W/det-night"
/usr/bin/python3 tasks/py/head_add_renders.py --features $F --folders LandscapeDay,InteriorDay \
  --out "$W/det-day"

# each scored once
evaluate_all "$W/eval-" "$W/det-sv $W/fresh-night --no-controls" \
  "$W/det-night $W/fresh-night --no-controls" "$W/det-day $W/fresh-night --no-controls"
show_results det-sv-fresh-night det-night-fresh-night det-day-fresh-night
# the night head against the control, image by image; the toolkit's refit against scikit-learn's
/usr/bin/python3 tasks/py/paired_auc.py runs/detectors/det-night-fresh-night \
  runs/detectors/det-day-fresh-night
# is it the night, or the dark? darkness alone as a score, and p(CG) against each image's key
/usr/bin/python3 tasks/py/brightness_baseline.py runs/detectors/det-night-fresh-night \
  runs/detectors/det-day-fresh-night
for f in night:LandscapeNight,InteriorNight day:LandscapeDay,InteriorDay; do
  deno run --allow-read tasks/refit_parity.ts models/corpus-rbf5 $F "${f#*:}" "$W/det-${f%%:*}"
done
