#!/bin/bash
# The sixth generator's measurement (docs/production.md, "Five generators in the verdict, and a
# sixth by another hand"): its test folder, and the three detectors scored on it once.
#
#   bash tasks/production/sixth_generator.sh [W]
#
# W (default /work) holds production-archviz (make.ts --generator archviz --count 100 --samples 32
# --photos 0 --label Archviz --first-seed 19000: the command of docs/production.md) and
# fresh (docs/independent-set.md); it gets fresh-archviz/: the fresh set's photographs of `polyu`
# and `u45` (the landscapes' test photographs) and the archviz renders. runs/detectors/corpus-rbf5
# is the five-generator detector the rule built (export-detector, as the docs say). Run from the
# repository root. Results: runs/detectors/{corpus-linear,corpus-rbf,corpus-rbf5}-fresh-archviz/.
set -euo pipefail
W=${1:-/work}
/usr/bin/python3 tasks/py/fresh_test_folder.py --work "$W" --set production-archviz \
  --folder Archviz --out "$W/fresh-archviz"
for d in models/corpus-linear models/corpus-rbf runs/detectors/corpus-rbf5; do
  deno task evaluate --detector "$d" --test-data "$W/fresh-archviz"
done
