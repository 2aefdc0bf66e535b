"""Benchmark `accunode drift` and `accunode stress` against a plain `accunode bulk-score`.

    python bench/bench_analytics.py [--rows 5000000] [--small-rows 1000000] [--repeat 3]

All on the same generated annual Parquet file as bench_bulk.py (ratios with blanks and
sentinels, a sector per row), each command a real subprocess under ``/usr/bin/time -v``:

* ``bulk-score FILE -o scored.parquet`` (the yardstick), and with ``--horizon 5``;
* ``drift FILE`` against the model's stored training distribution, and ``--reference FILE``
  (a second full pass over a reference file);
* ``stress FILE --scenario severe`` (sector shocks included) with and without ``-o``.

The same commands on a 1,000,000-row file show that peak memory does not grow with the rows.
Prints a Markdown table and writes bench/results/analytics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench_bulk import make_input

ROOT = Path(__file__).resolve().parent


def run(arguments: list[str]) -> dict[str, float]:
    """Run one accunode command under /usr/bin/time -v; return seconds, CPU and peak RSS."""
    accunode = shutil.which("accunode") or str(Path(sys.executable).parent / "accunode")
    command = ["/usr/bin/time", "-v", accunode, *arguments, "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{arguments[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = sum(
        float(found.group(1))
        for found in re.finditer(r"(?:User|System) time \(seconds\): ([0-9.]+)", done.stderr)
    )
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": int(peak.group(1)) / 1024 if peak else float("nan"),
        "output": json.loads(done.stdout),
    }


def commands(source: Path, out: Path) -> dict[str, list[str]]:
    """Return the measured commands by label."""
    src = str(source)
    return {
        "bulk-score, Parquet in and out": ["bulk-score", src, "-o", str(out / "scored.parquet")],
        "bulk-score --horizon 5": [
            "bulk-score", src, "--horizon", "5", "-o", str(out / "scored_h5.parquet")
        ],
        "drift (reference: training distribution)": ["drift", src],
        "drift --reference (the same file again)": ["drift", src, "--reference", src],
        "stress --scenario severe (summary only)": ["stress", src, "--scenario", "severe"],
        "stress --scenario severe -o stressed.parquet": [
            "stress", src, "--scenario", "severe", "-o", str(out / "stressed.parquet")
        ],
    }  # fmt: skip


def measure(source: Path, out: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Run every command ``repeat`` times in turns; keep each one's fastest run."""
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeat):
        for label, arguments in commands(source, out).items():
            result = run(arguments)
            if label not in best or result["seconds"] < best[label]["seconds"]:
                best[label] = result
    return best


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--small-rows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    out = args.data_dir / "out"
    out.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    runs = {}
    for rows in (args.rows, args.small_rows):
        source = args.data_dir / f"annual_{rows}.parquet"
        make_input(source, rows)
        runs[rows] = measure(source, out, args.repeat)
    base = runs[args.rows]["bulk-score, Parquet in and out"]["seconds"]
    results = {
        "rows": args.rows,
        "small_rows": args.small_rows,
        "cores": os.cpu_count(),
        "load_average_before": load,
        "runs": {
            str(rows): {
                label: {k: v for k, v in run.items() if k != "output"}
                | {"vs_bulk_score": run["seconds"] / base if rows == args.rows else None}
                for label, run in measured.items()
            }
            for rows, measured in runs.items()
        },
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "analytics.json").write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"annual rows, {os.cpu_count()} cores, load average before: {load:.2f}, "
        f"fastest of {args.repeat} runs each\n"
    )
    print("| command | rows | seconds | x bulk-score | CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for rows, measured in runs.items():
        for label, run in measured.items():
            ratio = f"{run['seconds'] / base:.2f}" if rows == args.rows else ""
            print(
                f"| {label} | {rows:,} | {run['seconds']:.2f} | {ratio} | "
                f"{run['cpu_seconds']:.2f} | {run['peak_mb']:.0f} |"
            )


if __name__ == "__main__":
    main()
