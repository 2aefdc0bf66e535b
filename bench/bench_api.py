"""Benchmark the API: POST /api/v1/predictions/annual (scoring + PostgreSQL write) under load.

Starts a real `accunode serve` on a fresh PostgreSQL database (and Redis), and, in the same run,
a bare FastAPI endpoint under the same uvicorn settings; drives each with N concurrent keep-alive
clients for D seconds and reports requests/s, errors, median and p99 latency.

    python bench/bench_api.py [--duration 30] [--concurrency 32] [--workers 1] [--repeat 1]

The load generator is one asyncio process with a minimal HTTP/1.1 keep-alive client on the same
machine, so on a small machine it still takes CPU from the server; the figures are a floor.
Results go to bench/results/api.json.
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get(
    "ACCUNODE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ACCUNODE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
RATIOS = {
    "long_term_debt_to_total_capital": 35.0,
    "total_debt_to_ebitda": 2.1,
    "net_income_margin": 8.5,
    "ebit_to_interest_expense": 9.2,
    "return_on_assets": 6.1,
}


def serve_bare(port: int, workers: int) -> None:
    """Run the baseline: a sync FastAPI endpoint that validates and echoes a small JSON body."""
    import uvicorn

    uvicorn.run(
        "bench_api:bare_app",
        app_dir=str(ROOT),
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )


def bare_app() -> Any:
    """Return the bare FastAPI app (one POST endpoint, same body shape, no database)."""
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Body(BaseModel):
        company_symbol: str
        reporting_year: int
        long_term_debt_to_total_capital: float | None = None
        total_debt_to_ebitda: float | None = None
        net_income_margin: float | None = None
        ebit_to_interest_expense: float | None = None
        return_on_assets: float | None = None

    app = FastAPI()

    @app.post("/bare", status_code=201)
    def bare(body: Body) -> Body:
        return body

    @app.get("/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{url} not ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: far less CPU per request than a full client, so
    the load generator takes less of the machine from the servers it measures."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parsed = urlsplit(url)
        self.host, self.port, self.path = parsed.hostname or "", parsed.port or 80, parsed.path
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\n{extra}"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        self.writer.write(request)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def _load(
    url: str, headers: dict[str, str], *, concurrency: int, duration: float, warmup: float
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    run = uuid.uuid4().hex[:6]
    connections = [_Connection(url, headers) for _ in range(concurrency)]

    async def worker(index: int, until: float, record: bool) -> None:
        connection, n = connections[index], 0
        while time.perf_counter() < until:
            n += 1
            body = {
                "company_symbol": f"B{run}{'R' if record else 'W'}{index}X{n}",
                "company_name": "Bench Co",
                "reporting_year": 2024,
                **RATIOS,
            }
            started = time.perf_counter()
            try:
                status = await connection.post(json.dumps(body).encode())
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                status, connection.writer = 0, None
            if record:
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

    warm_until = time.perf_counter() + warmup
    await asyncio.gather(*(worker(i, warm_until, False) for i in range(concurrency)))
    started = time.perf_counter()
    until = started + duration
    await asyncio.gather(*(worker(i, until, True) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    ordered = sorted(latencies)
    ok = sum(count for status, count in statuses.items() if status == 201)
    return {
        "requests": len(latencies),
        "ok": ok,
        "errors": len(latencies) - ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _database() -> tuple[str, Any]:
    from sqlalchemy import create_engine, text

    name = f"accunode_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def _start_api(args: argparse.Namespace, database: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    env.update(
        ACCUNODE_ENV="test",
        ACCUNODE_DATABASE_URL=database,
        ACCUNODE_REDIS_URL=REDIS_URL,
        ACCUNODE_REDIS_PREFIX=f"bench:{uuid.uuid4().hex}:",
        ACCUNODE_JWT_SECRET=uuid.uuid4().hex * 2,
        ACCUNODE_RATE_LIMIT_PER_MINUTE="1000000000",
        ACCUNODE_LOG_LEVEL="WARNING",
        ACCUNODE_DATA_DIR=str(ROOT / "results" / "api-data"),
    )
    command = [str(Path(sys.executable).parent / "accunode"), "serve", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _token(base: str) -> dict[str, str]:
    account = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": "bench password 1"}
    httpx.post(f"{base}/api/v1/auth/register", json=account, timeout=30).raise_for_status()
    login = httpx.post(f"{base}/api/v1/auth/login", json=account, timeout=30)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, in turns; best kept")
    parser.add_argument("--out", default=str(ROOT / "results" / "api.json"), help="results file")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.workers)
        return
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "uvicorn_workers": args.workers,
        "repeat": args.repeat,
    }
    bare_port = _free_port()
    bare = subprocess.Popen(
        [sys.executable, __file__, "--serve-bare", str(bare_port), "--workers", str(args.workers)]
    )
    database, drop = _database()
    api_port = _free_port()
    api = _start_api(args, database, api_port)
    base = f"http://127.0.0.1:{api_port}"
    runs: dict[str, list[dict[str, Any]]] = {"bare_fastapi": [], "api_post_annual_postgres": []}
    try:
        _wait(f"http://127.0.0.1:{bare_port}/ready", bare)
        _wait(f"{base}/api/v1/health/ready", api)
        headers = _token(base)
        options = {
            "concurrency": args.concurrency,
            "duration": args.duration,
            "warmup": args.warmup,
        }
        for _ in range(args.repeat):  # in turns, so a busy spell hits both alike
            runs["bare_fastapi"].append(
                asyncio.run(_load(f"http://127.0.0.1:{bare_port}/bare", {}, **options))
            )
            runs["api_post_annual_postgres"].append(
                asyncio.run(_load(f"{base}/api/v1/predictions/annual", headers, **options))
            )
    finally:
        _stop(bare)
        _stop(api)
        drop()
    for name, measured in runs.items():  # the fastest run of each: a shared machine only slows
        results[name] = max(measured, key=lambda run: run["requests_per_s"])
        results[name]["all_runs_requests_per_s"] = [run["requests_per_s"] for run in measured]
        results[name]["all_runs_errors"] = [run["errors"] for run in measured]
    api_rate = results["api_post_annual_postgres"]["requests_per_s"]
    results["api_share_of_bare_rate"] = round(
        api_rate / results["bare_fastapi"]["requests_per_s"], 3
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
