#!/usr/bin/env bash
# Copies the small files of every finished run in a results folder into a folder of the repository, so that a
# long study's finished runs are committed as they finish and nothing finished is lost with the machine:
#   build/sync-results.sh /work/study/minatar-width results/minatar-width
# Per run: config.json, status.json, interference.csv (the final analysis' gradient cosines, when the run
# measured them) and metrics.csv compressed as metrics.csv.gz (gzip -9 -n: the same bytes for
# the same file; `prunerl report` and `analyze` read it where metrics.csv is absent). Never checkpoints,
# TensorBoard events or metrics.jsonl. Runs that have not finished are left out; a run already copied is
# copied again only when its source changed.
set -euo pipefail
src=${1:?usage: build/sync-results.sh RESULTS_FOLDER REPOSITORY_FOLDER}
dst=${2:?usage: build/sync-results.sh RESULTS_FOLDER REPOSITORY_FOLDER}
copied=0
for status in "$src"/*/status.json; do
  [[ -f $status ]] || continue
  run=$(dirname "$status")
  name=$(basename "$run")
  grep -q '"state": "finished"' "$status" || continue
  out="$dst/$name"
  if [[ -f $out/status.json ]] && cmp -s "$status" "$out/status.json"; then continue; fi
  mkdir -p "$out"
  cp "$run/config.json" "$run/status.json" "$out/"
  if [[ -f $run/interference.csv ]]; then cp "$run/interference.csv" "$out/"; fi
  gzip -9 -n -c "$run/metrics.csv" > "$out/metrics.csv.gz.tmp"
  mv "$out/metrics.csv.gz.tmp" "$out/metrics.csv.gz"
  copied=$((copied + 1))
done
echo "copied $copied finished run(s) into $dst"
