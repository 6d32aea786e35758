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
# (printed at the end); logs: W/fresh-<folder>-<detector>.log.
set -euo pipefail
SET=$1 FOLDER=$2 W=${3:-/work}
OUT="$W/fresh-${FOLDER,,}"
/usr/bin/python3 tasks/py/fresh_test_folder.py --work "$W" --set "$SET" --folder "$FOLDER" \
  --out "$OUT"
# two at a time (each scores on one core); each evaluation's progress goes to its own log; any
# that fails fails the script, after the others have finished
rc=0 pids=()
for d in models/corpus-rbf5 models/corpus-rbf models/corpus-linear; do
  deno task evaluate --detector "$d" --test-data "$OUT" > "$OUT-$(basename "$d").log" 2>&1 &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || rc=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ "$rc" = 0 ] || { echo "an evaluation failed: see $OUT-*.log" >&2; exit 1; }
for d in corpus-rbf5 corpus-rbf corpus-linear; do
  echo "## $d"; cat "runs/detectors/$d-$(basename "$OUT")/results.md"
done
