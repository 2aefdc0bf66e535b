"""Benchmark the scoring core: 1M rows in memory, one row at a time, and model loading.

Run with ``make bench`` (or ``python bench/bench_scoring.py``); figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa

from accunode_cli.scoring import load_model


def _best(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _columns(model, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    columns = {name: rng.normal(8, 15, n) for name in model.ratio_names}
    for values in columns.values():
        values[rng.random(n) < 0.1] = np.nan
    return columns


def main() -> None:
    rng = np.random.default_rng(0)
    annual = load_model("annual")
    quarterly = load_model("quarterly")
    n = 1_000_000
    columns = _columns(annual, n, rng)
    batch = pa.RecordBatch.from_pydict(columns)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    results: dict[str, object] = {"machine": f"{machine}, Python {platform.python_version()}"}
    results["annual_1m_numpy_s"] = _best(lambda: annual.score_columns(columns))
    results["annual_1m_arrow_s"] = _best(lambda: annual.score_record_batch(batch))
    results["annual_1m_arrow_to_table_s"] = _best(
        lambda: annual.score_record_batch(batch).to_arrow(explain=True)
    )
    qcols = _columns(quarterly, n, rng)
    results["quarterly_1m_numpy_s"] = _best(lambda: quarterly.score_columns(qcols))

    row = {name: float(values[0]) for name, values in columns.items()}
    for _ in range(200):
        annual.score_one(row)
    samples = []
    for _ in range(3000):
        start = time.perf_counter()
        annual.score_one(row)
        samples.append(time.perf_counter() - start)
    results["single_row_median_us"] = statistics.median(samples) * 1e6
    results["single_row_p99_us"] = float(np.percentile(samples, 99) * 1e6)

    results["load_both_in_process_ms"] = (
        _best(lambda: (load_model("annual"), load_model("quarterly")), repeat=5) * 1e3
    )
    code = (
        "import time; t = time.perf_counter();"
        "from accunode_cli.scoring import load_model;"
        "load_model('annual'); load_model('quarterly');"
        "print((time.perf_counter() - t) * 1e3)"
    )
    cold = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(5)]  # fmt: skip
    results["import_and_load_both_cold_ms"] = min(cold)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
