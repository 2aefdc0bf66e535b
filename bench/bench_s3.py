"""Benchmark `accunode bulk-score` from s3:// to s3:// against the same run on local files.

    python bench/bench_s3.py [--rows 1000000] [--data-dir bench/data]

S3 is moto's server mode on 127.0.0.1 (real HTTP, in this process); each bulk-score is a real
subprocess under ``/usr/bin/time -v`` for its peak memory. Runs Parquet in and out at a quarter
of ``--rows`` and at ``--rows``, locally and s3 -> s3, checks that the S3 output equals the local
one, and shows that memory does not grow with the file. Writes bench/results/s3.json.
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

import pyarrow as pa
import pyarrow.parquet as pq
from bench_bulk import make_input

ROOT = Path(__file__).resolve().parent
BUCKET = "accunode-bench"


def run(source: str, target: str, env: dict[str, str]) -> dict[str, float]:
    """Run the real bulk-score under /usr/bin/time -v; return seconds, rows/s and peak MB."""
    accunode = shutil.which("accunode") or str(Path(sys.executable).parent / "accunode")
    command = ["/usr/bin/time", "-v", accunode, "bulk-score", source, "-o", target, "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bulk-score failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rows = json.loads(done.stdout)["rows"]
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_mb": round(int(peak.group(1)) / 1024) if peak else float("nan"),
    }


def main() -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    options = parser.parse_args()
    options.data_dir.mkdir(parents=True, exist_ok=True)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_EC2_METADATA_DISABLED="true",
    )
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    client.create_bucket(Bucket=BUCKET)
    results = []
    try:
        for rows in (options.rows // 4, options.rows):
            source = options.data_dir / f"s3-annual-{rows}.parquet"
            make_input(source, rows)
            client.upload_file(str(source), BUCKET, f"in-{rows}.parquet")
            local_out = options.data_dir / f"s3-annual-{rows}-scored.parquet"
            local = run(str(source), str(local_out), env)
            remote = run(
                f"s3://{BUCKET}/in-{rows}.parquet", f"s3://{BUCKET}/out-{rows}.parquet", env
            )
            body = client.get_object(Bucket=BUCKET, Key=f"out-{rows}.parquet")["Body"].read()
            same = pq.read_table(pa.BufferReader(body)).equals(pq.read_table(local_out))
            results.append({"rows": rows, "local": local, "s3": remote, "same_output": same})
    finally:
        server.stop()

    print("| rows | where | seconds | rows/s | peak MB | same output |")
    print("|---:|---|---:|---:|---:|---|")
    for result in results:
        for where in ("local", "s3"):
            run_ = result[where]
            same = "" if where == "local" else ("yes" if result["same_output"] else "NO")
            print(
                f"| {result['rows']:,} | {where} | {run_['seconds']} | {run_['rows_per_second']:,}"
                f" | {run_['peak_mb']} | {same} |"
            )
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "s3.json").write_text(json.dumps(results, indent=2) + "\n")
    if not all(result["same_output"] for result in results):
        raise SystemExit("the S3 output differs from the local one")


if __name__ == "__main__":
    main()
