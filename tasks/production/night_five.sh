#!/bin/bash
# Night renders of all five training generators in the head, scored once on a night generator by
# another hand (docs/production.md, "Night renders of all five generators").
#
#   bash tasks/production/night_five.sh GENERATOR LABEL [W]
#
# GENERATOR is the new night generator (make.ts --generator), LABEL its render folder. W (default
# /work) holds natural-src (and any renders made before: W/production-{inight,lnight,iday,lday}
# are night_in_training.sh's), and receives the other three generators' night renders, the
# new generator's set, the detector W/det-night5, the guard's folder W/fresh-day2 (the diagnostic's
# 70 day twins, rooms label 1 and landscapes label 2, against the same 120 photographs; it stands
# in for the VTK set the rule named, which needs the whole corpus) and the logs. Run from the
# repository root; make.ts keeps renders already made, and an evaluation already written is not
# run again. Results: runs/detectors/{corpus-rbf5,det-night5}-fresh-{<label>,day2}/.
set -euo pipefail
GEN=$1 LABEL=$2 W=${3:-/work}
source tasks/production/_lib.sh
make_set production-inight interior-night 30 InteriorNight 11500
make_set production-lnight landscape-night 40 LandscapeNight 17500
make_set production-snight scene-night 30 SceneNight 23000
make_set production-stnight studio-night 30 StudioNight 24000
make_set production-enight exterior-night 30 ExteriorNight 25000
# the guard's day twins (the diagnostic's control)
make_set production-iday interior 30 InteriorDay 11500
make_set production-lday landscape 40 LandscapeDay 17500

# the 160 renders' head features
NIGHT=InteriorNight,LandscapeNight,SceneNight,StudioNight,ExteriorNight
head_features "$W/train-night5" feat-night5 InteriorNight:production-inight \
  LandscapeNight:production-lnight SceneNight:production-snight StudioNight:production-stnight \
  ExteriorNight:production-enight
F=runs/feat-night5/features
[ -f "$W/det-night5/head.json" ] ||
  /usr/bin/python3 tasks/py/head_add_renders.py --features $F --folders $NIGHT --out "$W/det-night5"
deno run --allow-read tasks/refit_parity.ts models/corpus-rbf5 $F $NIGHT "$W/det-night5"

# the new generator's 100 renders and its test folder (the same 120 photographs as the others')
SET="production-${LABEL,,}" OUT="$W/fresh-${LABEL,,}"
make_set "$SET" "$GEN" 100 "$LABEL" 30000
/usr/bin/python3 tasks/py/fresh_test_folder.py --work "$W" --set "$SET" --folder "$LABEL" \
  --out "$OUT"

# the guard: the day twins of the rooms and landscapes learnt at night, the same photographs
G="$W/fresh-day2"
if [ ! -f "$G/dataset.csv" ]; then
  mkdir -p "$G"
  ln -sfn "$(pwd)/runs/natural" "$G/Photos"
  ln -sfn "$W/production-iday/InteriorDay" "$G/InteriorDay"
  ln -sfn "$W/production-lday/LandscapeDay" "$G/LandscapeDay"
  {
    echo "Name,Label,Group"
    grep ',0,' "$OUT/dataset.csv"
    for img in "$G"/InteriorDay/*.jpg; do echo "InteriorDay/$(basename "$img"),1,InteriorDay"; done
    for img in "$G"/LandscapeDay/*.jpg; do echo "LandscapeDay/$(basename "$img"),2,LandscapeDay"; done
  } > "$G/dataset.csv"
fi

# each scored once
evaluate_all "$W/eval-" "models/corpus-rbf5 $OUT --no-controls" "$W/det-night5 $OUT --no-controls" \
  "models/corpus-rbf5 $G --no-controls" "$W/det-night5 $G --no-controls"
show_results "corpus-rbf5-$(basename "$OUT")" "det-night5-$(basename "$OUT")" \
  corpus-rbf5-fresh-day2 det-night5-fresh-day2
# night5 against the shipped head, image by image
/usr/bin/python3 tasks/py/paired_auc.py "runs/detectors/det-night5-$(basename "$OUT")" \
  "runs/detectors/corpus-rbf5-$(basename "$OUT")"
# is it the night, or the dark? darkness alone as a score, and p(CG) against each image's key
/usr/bin/python3 tasks/py/brightness_baseline.py "runs/detectors/det-night5-$(basename "$OUT")" \
  "runs/detectors/corpus-rbf5-$(basename "$OUT")"
