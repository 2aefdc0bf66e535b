#!/usr/bin/env bash
# Run every benchmark in bench/ in turn; each prints its table and writes DIR/results/.
#
#   bash bench/run.sh [DIR]      DIR defaults to out/bench (scratch, not committed)
#
# The scripts keep their results and generated data next to themselves, so outside bench/ they
# run from a fresh copy in DIR: the committed bench/results/ changes only when DIR is bench
# (`make bench BENCH_DIR=bench`), i.e. when a run is meant to be recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-out/bench}"
dir="${dir%/}"
if [ "$(realpath -m "$dir")" != "$(realpath bench)" ]; then
    mkdir -p "$dir/results"
    cp bench/*.py "$dir/"
fi
echo "== results go to $dir/results/"
status=0
for script in "$dir"/bench_*.py; do
    echo "== $script"
    python "$script" || status=$?
done
exit "$status"
