"""Soak the API: 64 clients against two servers on PostgreSQL and Redis, then the same with faults.

Two `accunode serve` processes share one fresh PostgreSQL database and one Redis, each reached
through a TCP proxy this script controls. Run 1: N clients (default 64) for D seconds (60) of
mixed traffic (create 40 %, read 35 %, list 15 %, update 10 %) with the rate limit raised.
Run 2: the same, while Redis is killed for 15 s (its proxy stopped) and the database is stalled
for 15 s (its proxy frozen with SIGSTOP). Each run reports requests, answers by status, p50/p99
latency, and checks the database: every 201 has its row, no row is stored twice.

    python bench/soak.py [--duration 60] [--clients 64]

Results go to bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent
PROXY = ROOT.parent / "tests" / "server" / "tcp_proxy.py"
ADMIN_URL = os.environ.get(
    "ACCUNODE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ACCUNODE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ACCUNODE = str(Path(sys.executable).parent / "accunode")
PASSWORD = "soak test passphrase"


class Proxy:
    """A TCP proxy process that can be stopped, restarted on its port, frozen and thawed."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PROXY), self.target[0], str(self.target[1]), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None

    def freeze(self, frozen: bool) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP if frozen else signal.SIGCONT)


def _database() -> str:
    from sqlalchemy import create_engine, text

    name = f"accunode_soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [ACCUNODE, "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health/ready", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server did not start: {log.read_text()[-2000:]}")


def _body(symbol: str) -> dict[str, Any]:
    return {
        "company_symbol": symbol,
        "company_name": symbol,
        "reporting_year": 2024,
        "long_term_debt_to_total_capital": round(random.uniform(5, 80), 2),
        "total_debt_to_ebitda": round(random.uniform(0.2, 8), 2),
        "net_income_margin": round(random.uniform(-20, 30), 2),
        "ebit_to_interest_expense": round(random.uniform(-2, 20), 2),
        "return_on_assets": round(random.uniform(-10, 15), 2),
    }


async def _client(
    index: int, bases: list[str], headers: dict[str, str], stop: float, out: dict[str, Any]
) -> None:
    created: list[str] = []
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        n = 0
        while time.monotonic() < stop:
            base = bases[n % len(bases)] + "/api/v1/predictions/annual"
            n += 1
            roll = random.random()
            started = time.perf_counter()
            try:
                if roll < 0.40 or not created:
                    symbol = f"C{index}X{n}X{uuid.uuid4().hex[:6]}"
                    response = await http.post(base, json=_body(symbol))
                    if response.status_code == 201:
                        created.append(response.json()["id"])
                        out["created"].append(response.json()["id"])
                elif roll < 0.75:
                    response = await http.get(f"{base}/{random.choice(created)}")
                elif roll < 0.90:
                    response = await http.get(base, params={"size": 20})
                else:
                    body = {"net_income_margin": round(random.uniform(-20, 30), 2)}
                    response = await http.put(f"{base}/{random.choice(created)}", json=body)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            out["latencies"].append(time.perf_counter() - started)
            out["statuses"][status] += 1


async def _faults(redis: Proxy, database: Proxy, log: list[str], start: float) -> None:
    await asyncio.sleep(10)
    log.append(f"{time.monotonic() - start:5.1f}s redis killed")
    redis.stop()
    await asyncio.sleep(15)
    redis.start()
    log.append(f"{time.monotonic() - start:5.1f}s redis back")
    await asyncio.sleep(10)
    log.append(f"{time.monotonic() - start:5.1f}s database stalled (SIGSTOP)")
    database.freeze(True)
    await asyncio.sleep(15)
    database.freeze(False)
    log.append(f"{time.monotonic() - start:5.1f}s database resumed")


async def _run(
    bases: list[str],
    tokens: list[dict[str, str]],
    clients: int,
    duration: float,
    faults: tuple[Proxy, Proxy] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "statuses": Counter(), "created": []}
    events: list[str] = []
    start = time.monotonic()
    stop = start + duration
    jobs = [_client(i, bases, tokens[i % len(tokens)], stop, out) for i in range(clients)]
    if faults is not None:
        jobs.append(_faults(*faults, events, start))
    await asyncio.gather(*jobs)
    elapsed = time.monotonic() - start
    latencies = sorted(out["latencies"])
    total = len(latencies)
    return {
        "requests": total,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(total / elapsed, 1),
        "statuses": dict(sorted(out["statuses"].items())),
        "p50_ms": round(latencies[total // 2] * 1000, 1) if total else None,
        "p99_ms": round(latencies[int(total * 0.99)] * 1000, 1) if total else None,
        "created": out["created"],
        "events": events,
    }


def _check(database_url: str, created: list[str]) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        ids = {str(row[0]) for row in connection.execute(text("SELECT id FROM annual_predictions"))}
        doubled = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT company_id, reporting_year FROM annual_predictions"
                " GROUP BY company_id, reporting_year HAVING count(*) > 1) AS d"
            )
        ).scalar()
    engine.dispose()
    answered = set(created)
    return {
        "answered_201": len(created),
        "rows": len(ids),
        "missing_rows": len(answered - ids),
        "rows_without_a_201": len(ids - answered),  # committed, but the client timed out
        "duplicate_201_ids": len(created) - len(answered),
        "company_periods_stored_twice": int(doubled or 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()
    database = _database()
    pg, rd = urlsplit(database), urlsplit(REDIS_URL)
    db_proxy = Proxy(pg.hostname or "127.0.0.1", pg.port or 5432)
    redis_proxy = Proxy(rd.hostname or "127.0.0.1", rd.port or 6379)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    env.update(
        ACCUNODE_ENV="test",
        ACCUNODE_DATABASE_URL=_via(database, db_proxy.port),
        ACCUNODE_REDIS_URL=_via(REDIS_URL, redis_proxy.port),
        ACCUNODE_REDIS_PREFIX=f"soak:{uuid.uuid4().hex}:",
        ACCUNODE_JWT_SECRET="s" * 48,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_RATE_LIMIT_PER_MINUTE="100000000",
        ACCUNODE_REGISTRATIONS_PER_HOUR="1000",
        ACCUNODE_LOG_LEVEL="WARNING",
    )
    logs = ROOT / "results"
    logs.mkdir(exist_ok=True)
    server_logs = Path(tempfile.mkdtemp(prefix="accunode-soak-"))  # kept for a look afterwards
    servers = [_start_server(env, server_logs / f"server-{i}.log") for i in range(2)]
    bases = [base for _, base in servers]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "clients": args.clients,
        "duration_s": args.duration,
    }
    try:
        tokens = []
        for i in range(8):
            email = f"soak-{i}-{uuid.uuid4().hex[:6]}@example.com"
            account = {"email": email, "password": PASSWORD}
            httpx.post(f"{bases[0]}/api/v1/auth/register", json=account).raise_for_status()
            pair = httpx.post(f"{bases[0]}/api/v1/auth/login", json=account).json()
            tokens.append({"Authorization": f"Bearer {pair['access_token']}"})
        answered: list[str] = []  # every 201 so far: the check covers both runs' rows
        for name, faults in (("steady", None), ("faults", (redis_proxy, db_proxy))):
            duration = args.duration if faults is None else max(args.duration, 55)
            run = asyncio.run(_run(bases, tokens, args.clients, duration, faults))
            time.sleep(3)  # let the servers finish what they answered
            answered.extend(run.pop("created"))
            run["check"] = _check(database, answered)
            results[name] = run
            print(f"== {name}: {json.dumps(run, indent=2)}")
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        redis_proxy.stop()
        db_proxy.stop()
        _drop(database)
    (logs / "soak.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
