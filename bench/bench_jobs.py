"""Benchmark bulk-upload jobs: a Parquet file through the API into PostgreSQL, one worker.

Starts `accunode serve` and one `accunode worker` on a fresh PostgreSQL database (and Redis),
waits until the worker consumes, checkpoints the database, uploads an N-row annual Parquet
file and times from the first byte sent to the job's results being ready. Next to it, on the
same file and machine: a local `accunode bulk-score` and the floors, a plain `COPY` of the very
rows the job stored back into the same table, emptied (its indexes, constraints and triggers
included), as text and in the binary format. The worker's peak memory (VmHWM) is read from
/proc.

    python bench/bench_jobs.py [--rows 1000000] [--memory-rows 0] [--concurrency 2] [--job-only]

``--memory-rows 5000000`` runs a second job of that size and reports the worker's peak memory;
``--job-only`` times the job alone and prints it (nothing is saved). Results go to
bench/results/jobs.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get(
    "ACCUNODE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ACCUNODE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ACCUNODE = str(Path(sys.executable).parent / "accunode")


def make_file(path: Path, rows: int) -> Path:
    """An annual Parquet file: 10,000 companies (more past 3M rows, so the years stay within
    1900-2199), one row per company-year, all scorable."""
    rng = np.random.default_rng(11)
    index = np.arange(rows)
    companies = max(10_000, -(-rows // 300))
    table = pa.table(
        {
            "company_symbol": pa.array([f"C{i:05d}" for i in (index % companies).tolist()]),
            "company_name": pa.array([f"Company {i}" for i in (index % companies).tolist()]),
            "reporting_year": pa.array((1900 + index // companies).astype(np.int64)),
            "long_term_debt_to_total_capital": rng.uniform(0, 90, rows),
            "total_debt_to_ebitda": rng.uniform(0, 8, rows),
            "net_income_margin": rng.uniform(-20, 30, rows),
            "ebit_to_interest_expense": rng.uniform(-2, 40, rows),
            "return_on_assets": rng.uniform(-10, 20, rows),
        }
    )
    pq.write_table(table, path, row_group_size=65_536)
    return path


def database() -> str:
    from sqlalchemy import create_engine, text

    name = f"accunode_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def checkpoint() -> None:
    """Start from a clean database: without this, whether a checkpoint (forced by the last
    run's writes or its DROP DATABASE) falls inside the timed job swung it by several
    seconds."""
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CHECKPOINT"))
    admin.dispose()


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(f"{url}/api/v1/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def wait_worker(log: Path, process: subprocess.Popen[bytes]) -> None:
    """Wait until the worker consumes (as in production, where it runs before any upload)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the worker exited")
        if '"message": "worker started"' in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise SystemExit("the worker did not start")


def sign_in(url: str, email: str) -> dict[str, str]:
    login = {"email": email, "password": "correct horse battery"}
    token = httpx.post(f"{url}/api/v1/auth/login", json=login, timeout=30).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def run_job(url: str, email: str, path: Path) -> tuple[float, dict[str, Any]]:
    """Upload, wait for the job to end; return the seconds and the job."""
    headers = sign_in(url, email)
    started = time.perf_counter()
    with path.open("rb") as handle:
        created = httpx.post(
            f"{url}/api/v1/predictions/bulk-upload",
            headers=headers,
            files={"file": (path.name, handle)},
            timeout=600,
        )
    created.raise_for_status()
    job_id = created.json()["id"]
    # One connection, four polls a second: the client's own work stays off the two cores
    # the job runs on (a new connection ten times a second took a fifth of a core).
    with httpx.Client(base_url=url, timeout=30) as client:
        while True:
            job = client.get(f"/api/v1/predictions/jobs/{job_id}", headers=headers)
            if job.status_code == 401:  # a long job outlives the 15-minute access token
                headers = sign_in(url, email)
                continue
            body = job.json()
            if body["status"] not in ("queued", "running"):
                break
            time.sleep(0.25)
    ready = time.perf_counter() - started
    if body["status"] != "succeeded":
        raise SystemExit(f"the job ended {body['status']}: {body['error']}")
    return ready, body


def copy_floor(database_url: str, job_id: str) -> dict[str, tuple[float, int]]:
    """COPY the rows the job stored back into the same table (indexes, checks, triggers),
    emptied first as the job found it: as text (the plain COPY of the issue) and in
    PostgreSQL's binary format. Returns (seconds, rows) per format."""
    import psycopg

    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    timings: dict[str, tuple[float, int]] = {}
    with psycopg.connect(plain) as connection:
        exported: dict[str, bytes] = {}
        for name, options in (("text", ""), ("binary", " (FORMAT binary)")):
            buffer = io.BytesIO()
            query = f"COPY (SELECT * FROM annual_predictions WHERE job_id = %s) TO STDOUT{options}"
            with connection.cursor().copy(query, (job_id,)) as copy:
                for block in copy:
                    buffer.write(block)
            exported[name] = buffer.getvalue()
        for name, options in (("text", ""), ("binary", " (FORMAT binary)")):
            connection.execute("TRUNCATE annual_predictions")  # the bench's only rows
            connection.commit()
            connection.execute("CHECKPOINT")
            started = time.perf_counter()
            with connection.cursor().copy(f"COPY annual_predictions FROM STDIN{options}") as copy:
                copy.write(exported[name])
            connection.commit()
            seconds = time.perf_counter() - started
            rows = connection.execute(
                "SELECT count(*) FROM annual_predictions WHERE job_id = %s", (job_id,)
            ).fetchone()
            timings[name] = (seconds, int(rows[0]) if rows else 0)
    return timings


def local_bulk_score(path: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([ACCUNODE, "bulk-score", str(path), "-o", str(out)], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's threads")
    parser.add_argument(
        "--job-only", action="store_true", help="time the job alone (no floor, no bulk-score)"
    )
    args = parser.parse_args()
    work = ROOT / "data"
    work.mkdir(exist_ok=True)
    data = make_file(work / f"jobs_{args.rows}.parquet", args.rows)
    url = database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    env.update(
        ACCUNODE_ENV="test",
        ACCUNODE_DATABASE_URL=url,
        ACCUNODE_REDIS_URL=REDIS_URL,
        ACCUNODE_REDIS_PREFIX=f"bench:{uuid.uuid4().hex}:",
        ACCUNODE_DATA_DIR=str(work / "jobs-data"),
        ACCUNODE_JWT_SECRET="b" * 48,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_MAX_UPLOAD_BYTES=str(2 << 30),
    )
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    api = f"http://127.0.0.1:{port}"
    log = (work / "jobs-server.log").open("wb")
    server = subprocess.Popen(
        [ACCUNODE, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    worker = None
    results: dict[str, Any] = {
        "rows": args.rows,
        "machine": platform.platform(),
        "worker_concurrency": args.concurrency,
    }
    try:
        wait_ready(api, server)
        worker = subprocess.Popen(
            [ACCUNODE, "worker", "--concurrency", str(args.concurrency)],
            env=env,
            stdout=log,
            stderr=log,
        )
        wait_worker(work / "jobs-server.log", worker)
        email = f"bench-{uuid.uuid4().hex[:6]}@example.com"
        account = {"email": email, "password": "correct horse battery", "full_name": "Bench"}
        httpx.post(f"{api}/api/v1/auth/register", json=account, timeout=30).raise_for_status()
        checkpoint()
        seconds, job = run_job(api, email, data)
        results["job_seconds"] = round(seconds, 2)
        results["job_rows_per_second"] = round(args.rows / seconds)
        results["job"] = {k: job[k] for k in ("rows_stored", "rows_rejected", "seconds")}
        results["worker_peak_mib"] = round(peak_kib(worker.pid) / 1024, 1)
        if args.job_only:
            print(json.dumps(results, indent=2))
            return
        floors = copy_floor(url, job["id"])
        floor, copied = floors["text"]
        results["copy_seconds"] = round(floor, 2)
        results["copy_rows_per_second"] = round(copied / floor)
        floor, copied = floors["binary"]
        results["binary_copy_seconds"] = round(floor, 2)
        results["binary_copy_rows_per_second"] = round(copied / floor)
        local = local_bulk_score(data, work / "jobs_local.parquet")
        results["bulk_score_seconds"] = round(local, 2)
        results["bulk_score_rows_per_second"] = round(args.rows / local)
        if args.memory_rows:
            big = make_file(work / f"jobs_{args.memory_rows}.parquet", args.memory_rows)
            save(results)
            other = f"bench-{uuid.uuid4().hex[:6]}@example.com"  # its own organization
            account = {**account, "email": other}
            httpx.post(f"{api}/api/v1/auth/register", json=account, timeout=30).raise_for_status()
            seconds, memory_job = run_job(api, other, big)
            results["memory_job"] = {k: memory_job[k] for k in ("rows_stored", "rows_rejected")}
            results["memory_rows"] = args.memory_rows
            results["memory_job_seconds"] = round(seconds, 1)
            results["worker_peak_mib_memory_job"] = round(peak_kib(worker.pid) / 1024, 1)
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                process.wait(60)
        drop(url)
    save(results)
    print(json.dumps(results, indent=2))


def save(results: dict[str, Any]) -> None:
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "jobs.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
