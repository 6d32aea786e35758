#!/bin/bash
# Builds issue 25's fresh independent set (docs/independent-set.md, "A fresh independent set"):
# the photographs of whole corpus sources drawn before any fitting (fresh_split.ts), and renders by
# a renderer no earlier set used, VTK 9's OpenGL rasteriser (gen_vtk.py: physically based shading,
# a photograph as environment light and background, photographs as textures, SSAO, tone mapping,
# FXAA), its textures from the texture pool of tasks/production/textures.csv.
#
#   sudo bash tasks/independent/build_fresh.sh OUT CORPUS SOURCES NATURAL_CSV [COUNT]
#
# CORPUS: the natural corpus folder (deno task make-natural's output, runs/natural); SOURCES: the
# gatherer's source folders (/work/natural-src, where the texture pool's files are); NATURAL_CSV:
# the list the draw is made from (the corpus less every texture pool, leave_generator_out.sh's
# production-gen4/loso-natural.csv). COUNT scenes are rendered (default 60), seeds 0..COUNT-1;
# cgbench's near-blank rule sets aside the near-blank ones before anything is scored. Writes
# OUT/fit.csv (the list less the drawn sources: what a detector for this set is fitted on),
# OUT/held-out.txt, OUT/Photos (a link to CORPUS), OUT/VTK/, OUT/near-blank/ and OUT/dataset.csv.
# Needs root for apt-get (python3-vtk9, xvfb, Pillow, NumPy). A render that exists is kept.
set -euo pipefail
OUT=${1:?usage: build_fresh.sh OUT CORPUS SOURCES NATURAL_CSV [COUNT]}
CORPUS=$(cd "${2:?}" && pwd)
SOURCES=$(cd "${3:?}" && pwd)
LIST=${4:?}
N=${5:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
apt-get install -y -q --no-install-recommends python3-vtk9 xvfb xauth python3-pil python3-numpy >/dev/null

deno run --allow-read --allow-write "$HERE/fresh_split.ts" --natural-csv "$LIST" --out "$OUT"
ln -sfn "$CORPUS" "$OUT/Photos"
mapfile -t TEX < <(tail -n +2 "$HERE/../production/textures.csv" | cut -d, -f1 | sed "s#^#$SOURCES/#")
mkdir -p "$OUT/VTK" "$OUT/near-blank"
for s in $(seq 0 $((N - 1))); do
  f=$(printf "vtk_%05d.png" "$s")
  if [ ! -f "$OUT/VTK/$f" ] && [ ! -f "$OUT/near-blank/$f" ]; then
    xvfb-run -a /usr/bin/python3 "$HERE/gen_vtk.py" "$s" "$OUT/VTK/$f" "${TEX[@]}"
    if [ -n "$(/usr/bin/python3 "$HERE/near_blank.py" "$OUT/VTK/$f")" ]; then
      mv "$OUT/VTK/$f" "$OUT/near-blank/$f"
    fi
  fi
done
{
  echo "Name,Label,Group"
  tail -n +2 "$OUT/photos.csv" | sed 's#^#Photos/#'
  for f in "$OUT"/VTK/*.png; do echo "VTK/$(basename "$f"),1,VTK/$(basename "$f")"; done
} >"$OUT/dataset.csv"
echo "$(grep -c ',0,' "$OUT/dataset.csv") photographs and $(grep -c '^VTK/' "$OUT/dataset.csv") VTK renders in $OUT ($(ls "$OUT/near-blank" | wc -l) near-blank set aside)"
