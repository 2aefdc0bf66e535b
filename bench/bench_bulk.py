"""Benchmark `accunode bulk-score` against its two floors and the predecessor's row loop.

    python bench/bench_bulk.py [--rows 5000000] [--csv-rows 2000000] [--data-dir bench/data]

Measured side by side in one run, on the same generated annual file:

* floor A: reading the Parquet input and writing it back with pyarrow alone;
* floor B: the model's own predictions (``score_columns``) on arrays already in memory;
* ``accunode bulk-score`` end to end (a real subprocess under ``/usr/bin/time -v`` for the peak
  memory), Parquet in and out, and CSV in and out;
* the predecessor's way: one pandas DataFrame per row, on a sample, as the baseline.

Prints a Markdown table and writes bench/results/bulk.json.
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

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from accunode_cli.scoring import load_model, ratio_names
from accunode_cli.scoring.generator import generate

ROOT = Path(__file__).resolve().parent
BATCH = 65_536


def make_input(path: Path, rows: int) -> None:
    """Write an annual file: generated ratios (blanks, sentinels) tiled to ``rows`` rows."""
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return
    base = generate("annual", firms=3_000, seed=5).columns  # 108,000 firm-years
    n = len(base["firm_id"])
    sectors = np.asarray(base["sector"])
    writer = None
    for start in range(0, rows, 500_000):
        count = min(500_000, rows - start)
        index = np.arange(start, start + count) % n
        ids = np.arange(start, start + count)
        columns = {
            "company_symbol": pa.array(np.char.add("C", ids.astype(str))),
            "company_name": pa.array(np.char.add("Company ", ids.astype(str))),
            "sector": pa.array(sectors[index]),
            "reporting_year": pa.array(base["year"][index]),
        }
        for name in ratio_names("annual"):
            columns[name] = pa.array(np.round(base[name][index], 4), from_pandas=True)
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=BATCH * 4)
    assert writer is not None
    writer.close()


def make_csv(parquet: Path, path: Path, rows: int) -> None:
    """Write the first ``rows`` rows of the Parquet file as CSV."""
    if path.exists():
        return
    source = pq.ParquetFile(parquet)
    writer = None
    done = 0
    for batch in source.iter_batches(batch_size=BATCH):
        batch = batch.slice(0, min(batch.num_rows, rows - done))
        if writer is None:
            writer = pcsv.CSVWriter(str(path), batch.schema)
        writer.write_batch(batch)
        done += batch.num_rows
        if done >= rows:
            break
    assert writer is not None
    writer.close()


def floor_io(source: Path, target: Path) -> float:
    """Floor A: read every batch and write it back with pyarrow alone."""
    started = time.perf_counter()
    parquet = pq.ParquetFile(source)
    writer = pq.ParquetWriter(target, parquet.schema_arrow, compression="snappy")
    for batch in parquet.iter_batches(batch_size=BATCH):
        writer.write_batch(batch)
    writer.close()
    return time.perf_counter() - started


def floor_model(source: Path) -> tuple[float, int]:
    """Floor B: the model's predictions on ratio arrays already in memory."""
    model = load_model("annual")
    table = pq.read_table(source, columns=list(ratio_names("annual")))
    arrays = {name: table.column(name).to_numpy() for name in ratio_names("annual")}
    rows = table.num_rows
    started = time.perf_counter()
    for start in range(0, rows, BATCH):
        model.score_columns({k: v[start : start + BATCH] for k, v in arrays.items()})
    return time.perf_counter() - started, rows


def run_cli(source: Path, target: Path) -> dict[str, float]:
    """Run the real `accunode bulk-score` under /usr/bin/time -v."""
    accunode = shutil.which("accunode") or str(Path(sys.executable).parent / "accunode")
    command = ["/usr/bin/time", "-v", accunode, "bulk-score", str(source), "-o", str(target)]
    command += ["--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bulk-score failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    summary = json.loads(done.stdout)
    return {
        "seconds": seconds,
        "rows": summary["rows"],
        "rows_per_second": summary["rows"] / seconds,
        "peak_mb": int(peak.group(1)) / 1024 if peak else float("nan"),
    }


def row_loop(source: Path, sample: int) -> float:
    """The predecessor's way: one DataFrame per row, scored on its own; seconds per row."""
    import pandas as pd

    model = load_model("annual")
    names = list(ratio_names("annual"))
    rows = pq.ParquetFile(source).read_row_group(0).slice(0, sample).to_pylist()
    started = time.perf_counter()
    for row in rows:
        frame = pd.DataFrame([row])
        model.score_columns({name: frame[name].to_numpy() for name in names})
    return (time.perf_counter() - started) / sample


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--csv-rows", type=int, default=2_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    source = args.data_dir / f"annual_{args.rows}.parquet"
    csv_source = args.data_dir / f"annual_{args.csv_rows}.csv"
    make_input(source, args.rows)
    make_csv(source, csv_source, args.csv_rows)
    out = args.data_dir / "out"
    out.mkdir(exist_ok=True)

    io_seconds = floor_io(source, out / "copy.parquet")
    model_seconds, rows = floor_model(source)
    parquet_run = run_cli(source, out / "scored.parquet")
    csv_run = run_cli(csv_source, out / "scored.csv")
    per_row = row_loop(source, args.sample)
    floors = io_seconds + model_seconds
    results = {
        "rows": rows,
        "cores": os.cpu_count(),
        "floor_io_seconds": io_seconds,
        "floor_model_seconds": model_seconds,
        "parquet": parquet_run,
        "parquet_vs_floors": parquet_run["seconds"] / floors,
        "csv": csv_run,
        "row_loop_seconds_per_row": per_row,
        "row_loop_rows_per_second": 1 / per_row,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bulk.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"| measurement ({rows:,} annual rows, {os.cpu_count()} cores) | seconds | rows/s | peak MB |")
    print("|---|---:|---:|---:|")
    print(f"| floor A: pyarrow read + write Parquet | {io_seconds:.2f} | {rows / io_seconds:,.0f} | |")
    print(f"| floor B: model on in-memory arrays | {model_seconds:.2f} | {rows / model_seconds:,.0f} | |")
    print(f"| floor A + B | {floors:.2f} | {rows / floors:,.0f} | |")
    for label, run in (("Parquet in/out", parquet_run), ("CSV in/out", csv_run)):
        print(
            f"| `accunode bulk-score`, {label} ({run['rows']:,.0f} rows) | {run['seconds']:.2f} | "
            f"{run['rows_per_second']:,.0f} | {run['peak_mb']:.0f} |"
        )
    print(f"| predecessor row loop (sample of {args.sample:,}) | {per_row * rows:,.0f} (extrapolated) "
          f"| {1 / per_row:,.0f} | |")
    print(f"\nParquet end to end / (floor A + floor B) = {results['parquet_vs_floors']:.2f}")


if __name__ == "__main__":
    main()
