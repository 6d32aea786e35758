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
mk() { # OUT GENERATOR COUNT LABEL FIRST-SEED
  deno run --allow-read --allow-write --allow-run tasks/production/make.ts --out "$W/$1" \
    --sources "$W/natural-src" --natural runs/natural --generator "$2" --count "$3" --samples 32 \
    --photos 0 --jobs 2 --label "$4" --first-seed "$5" > "$W/$1.log" 2>&1
}
mk production-inight interior-night 30 InteriorNight 11500
mk production-lnight landscape-night 40 LandscapeNight 17500
mk production-snight scene-night 30 SceneNight 23000
mk production-stnight studio-night 30 StudioNight 24000
mk production-enight exterior-night 30 ExteriorNight 25000
# the guard's day twins (the diagnostic's control)
mk production-iday interior 30 InteriorDay 11500
mk production-lday landscape 40 LandscapeDay 17500

# the 160 renders' head features (mobilenet of the image re-encoded as JPEG 75, as the head reads
# it): a train-head run on their folders and 12 of cgbench's photographs, of which only the cache
# is read
T="$W/train-night5" NIGHT=InteriorNight,LandscapeNight,SceneNight,StudioNight,ExteriorNight
mkdir -p "$T"
{
  echo "Name,Label,Group"
  for f in InteriorNight:inight LandscapeNight:lnight SceneNight:snight StudioNight:stnight \
    ExteriorNight:enight; do
    ln -sfn "$W/production-${f#*:}/${f%%:*}" "$T/${f%%:*}"
    for img in "$T/${f%%:*}"/*.jpg; do echo "${f%%:*}/$(basename "$img"),1,${f%%:*}"; done
  done
} > "$T/dataset.csv"
CG=../shared/data/cgbench
{ echo "Name,Label,Group"; grep '^Photos/' "$CG/dataset.csv" | head -12 | cut -d, -f1 |
  awk '{print $0 ",0," NR % 3}'; } > "$T/photos.csv"
deno task train-head --natural "$CG" --natural-csv "$T/photos.csv" --renders "$T" \
  --features mobilenet --match-compression 75 --name feat-night5 > "$W/feat-night5.log" 2>&1
F=runs/feat-night5/features
[ -f "$W/det-night5/head.json" ] ||
  /usr/bin/python3 tasks/py/head_add_renders.py --features $F --folders $NIGHT --out "$W/det-night5"
deno run --allow-read tasks/refit_parity.ts models/corpus-rbf5 $F $NIGHT "$W/det-night5"

# the new generator's 100 renders and its test folder (the same 120 photographs as the others')
SET="production-${LABEL,,}" OUT="$W/fresh-${LABEL,,}"
mk "$SET" "$GEN" 100 "$LABEL" 30000
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

# each scored once, two at a time (each on one core)
rc=0 pids=()
for job in "models/corpus-rbf5 $OUT" "$W/det-night5 $OUT" "models/corpus-rbf5 $G" \
  "$W/det-night5 $G"; do
  read -r d t <<< "$job"
  [ -f "runs/detectors/$(basename "$d")-$(basename "$t")/results.md" ] && continue
  deno task evaluate --detector "$d" --test-data "$t" --no-controls \
    > "$W/eval-$(basename "$d")-$(basename "$t").log" 2>&1 &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || rc=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ "$rc" = 0 ] || { echo "an evaluation failed: see $W/eval-*.log" >&2; exit 1; }
for r in "corpus-rbf5-$(basename "$OUT")" "det-night5-$(basename "$OUT")" corpus-rbf5-fresh-day2 \
  det-night5-fresh-day2; do
  echo "## $r"; sed -n '/^| test renderer/,/^$/p;/^| class/,/^$/p' "runs/detectors/$r/results.md"
done
# night5 against the shipped head, image by image
/usr/bin/python3 tasks/py/paired_auc.py "runs/detectors/det-night5-$(basename "$OUT")" \
  "runs/detectors/corpus-rbf5-$(basename "$OUT")"
