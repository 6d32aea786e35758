#!/bin/bash
# Photographs through the renders' camera steps in the head (docs/production.md, the section of
# that name, and "The photographs' size" before it): the size copies of the campsite and day-twin
# test folders, 300 Debian-list photographs through post.py's camera steps, corpus-rbf5's and
# night5's heads fitted again with them as photographs, and each scored once.
#
#   bash tasks/production/camera_in_head.sh DEBIAN [W]
#
# DEBIAN is the folder photo-sources/debian/fetch.sh filled. W (default /work) holds what
# night_five.sh made (fresh-campsite, fresh-day2, det-night5) and receives fresh-campsite-512,
# fresh-day2-512, camera-copies, det-cam, det-night5-cam and the logs. Run from the repository root.
# Results: runs/detectors/{corpus-rbf5,det-night5,det-cam,det-night5-cam}-fresh-*/.
set -euo pipefail
DEBIAN=$1 W=${2:-/work}
source tasks/production/_lib.sh
for t in fresh-campsite fresh-day2; do
  /usr/bin/python3 tasks/py/exposure_copies.py --src "$W/$t" --out "$W/$t-512" --long-side 512
done
/usr/bin/python3 tasks/py/camera_copies.py --root "$DEBIAN" --out "$W/camera-copies" \
  2> "$W/camera-copies.log"
head_features "$W/train-cam" feat-cam CameraCopies:camera-copies
F=runs/feat-cam/features
for d in models/corpus-rbf5:det-cam "$W/det-night5:det-night5-cam"; do
  [ -f "$W/${d##*:}/head.json" ] || /usr/bin/python3 tasks/py/head_add_renders.py \
    --detector "${d%:*}" --features $F --natural-folders CameraCopies --out "$W/${d##*:}"
done

# the size diagnostic, then the heads with the copies, each scored once
N="--no-controls" C="$W/fresh-campsite" D="$W/fresh-day2"
evaluate_all "$W/eval-" "models/corpus-rbf5 $C-512 $N" "$W/det-night5 $C-512 $N" \
  "models/corpus-rbf5 $D-512 $N" "$W/det-cam $C-512 $N" "$W/det-cam $D-512 $N" "$W/det-cam $C $N" \
  "$W/det-cam $D $N" "$W/det-night5-cam $C $N" "$W/det-night5-cam $C-512 $N"
for t in fresh-campsite fresh-campsite-512 fresh-day2 fresh-day2-512; do
  runs=()
  for d in corpus-rbf5 det-cam det-night5 det-night5-cam; do
    r="runs/detectors/$d-$t"
    [ -f "$r/results.json" ] || continue
    runs+=("$r")
    echo "## $d on $t"
    sed -n '/^| class/,/^$/p' "$r/results.md"
  done
  # each run's head AUC against all the photographs and against each source alone
  /usr/bin/python3 tasks/py/brightness_baseline.py "${runs[@]}" | grep "head AUC"
done
