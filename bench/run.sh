#!/usr/bin/env bash
# Run every benchmark in bench/ in turn; each prints its table and writes bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for script in bench/bench_*.py; do
    echo "== $script"
    python "$script" || status=$?
done
exit "$status"
