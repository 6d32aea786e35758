#!/bin/bash
# Shared steps of the production scripts (night_in_training.sh, night_five.sh,
# score_generator.sh, camera_in_head.sh); sourced, never run. Each function reads W, the work
# folder, from the caller.

# make_set OUT GENERATOR COUNT LABEL FIRST-SEED: COUNT renders of GENERATOR into W/OUT (make.ts
# keeps renders already made); its log is W/OUT.log
make_set() {
  deno run --allow-read --allow-write --allow-run tasks/production/make.ts --out "$W/$1" \
    --sources "$W/natural-src" --natural runs/natural --generator "$2" --count "$3" --samples 32 \
    --photos 0 --jobs 2 --label "$4" --first-seed "$5" > "$W/$1.log" 2>&1
}

# head_features T NAME FOLDER:DIR...: the head's features of the renders in each W/DIR/FOLDER
# (mobilenet of the image re-encoded as JPEG 75, as the head reads it), by a train-head run named
# NAME on a dataset folder T of links to them and 12 of cgbench's photographs; only the run's
# feature cache (runs/NAME/features) is read afterwards, and a run that finished (its head.json
# written, so its features too) is not run again
head_features() {
  local t=$1 name=$2 cg=../shared/data/cgbench f img
  shift 2
  [ -f "runs/$name/head.json" ] && return 0
  mkdir -p "$t"
  {
    echo "Name,Label,Group"
    for f in "$@"; do
      ln -sfn "$W/${f#*:}/${f%%:*}" "$t/${f%%:*}"
      for img in "$t/${f%%:*}"/*.jpg; do echo "${f%%:*}/$(basename "$img"),1,${f%%:*}"; done
    done
  } > "$t/dataset.csv"
  { echo "Name,Label,Group"; grep '^Photos/' "$cg/dataset.csv" | head -12 | cut -d, -f1 |
    awk '{print $0 ",0," NR % 3}'; } > "$t/photos.csv"
  deno task train-head --natural "$cg" --natural-csv "$t/photos.csv" --renders "$t" \
    --features mobilenet --match-compression 75 --name "$name" > "$W/$name.log" 2>&1
}

# evaluate_all LOG-PREFIX "DETECTOR TEST-FOLDER [FLAGS...]"...: each detector scored on its test
# folder once (a pair whose runs/detectors/<detector>-<folder>/results.md exists is skipped), two
# at a time since each scores on one core; each log is LOG-PREFIX<detector>-<folder>.log. Any that
# fails fails the call, after the others have finished.
evaluate_all() {
  local prefix=$1 job d t flags rc=0 pids=() p
  shift
  for job in "$@"; do
    read -r d t flags <<< "$job"
    [ -f "runs/detectors/$(basename "$d")-$(basename "$t")/results.md" ] && continue
    # shellcheck disable=SC2086 # flags are words
    deno task evaluate --detector "$d" --test-data "$t" $flags \
      > "$prefix$(basename "$d")-$(basename "$t").log" 2>&1 &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || rc=1; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ "$rc" = 0 ] || { echo "an evaluation failed: see $prefix*.log" >&2; return 1; }
}

# show_results RUN...: the per-renderer and per-class tables of each runs/detectors/RUN
show_results() {
  local r
  for r in "$@"; do
    echo "## $r"; sed -n '/^| test renderer/,/^$/p;/^| class/,/^$/p' "runs/detectors/$r/results.md"
  done
}
