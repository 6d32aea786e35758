#!/bin/bash
# A production-like generator written after the shipped detectors, scored once (docs/production.md,
# "The sixth generator: architectural exteriors, by another hand" and "A seventh generator, unlike
# the others"): its test folder, and three detectors on it.
#
#   bash tasks/production/score_generator.sh SET FOLDER [W]
#
# SET is the generator's make.ts output folder under W (default /work) and FOLDER its render folder
# (make.ts --label): production-archviz Archviz (the sixth), production-night Night (the seventh);
# the commands that render them are in docs/production.md. W also holds fresh
# (docs/independent-set.md). The test folder W/fresh-<FOLDER in lower case> holds the fresh set's
# photographs of `polyu` and `u45` (no texture pool and no fit of the detectors holds them) and
# the renders (tasks/py/fresh_test_folder.py; a folder once written is left as it is). Run from the
# repository root. Results: runs/detectors/{corpus-linear,corpus-rbf,corpus-rbf5}-fresh-<folder>/
# (printed at the end; an evaluation already written is not run again); logs:
# W/fresh-<folder>-<detector>-fresh-<folder>.log.
set -euo pipefail
SET=$1 FOLDER=$2 W=${3:-/work}
OUT="$W/fresh-${FOLDER,,}"
/usr/bin/python3 tasks/py/fresh_test_folder.py --work "$W" --set "$SET" --folder "$FOLDER" \
  --out "$OUT"
source tasks/production/_lib.sh
evaluate_all "$OUT-" "models/corpus-rbf5 $OUT" "models/corpus-rbf $OUT" "models/corpus-linear $OUT"
for d in corpus-rbf5 corpus-rbf corpus-linear; do
  echo "## $d"; cat "runs/detectors/$d-$(basename "$OUT")/results.md"
done
