"""End to end: real `accunode serve` processes (uvicorn) on free ports.

Two servers sharing one PostgreSQL database and one Redis accept each other's tokens, honour a
logout made on the other at once, and share rate-limit counts. One server with no configuration
runs on the embedded SQLite default.
"""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from api_helpers import PASSWORD, TEST_SECRET, Server, annual_body, clean_env
from dbservers import REDIS_URL, create_pg_database, drop_pg_database, unavailable


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two servers on one PostgreSQL database and one Redis, with the same JWT secret."""
    yield from _pair(tmp_path, rate_limit=40)


@pytest.fixture
def busy_pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """The same two servers with room for a burst of requests."""
    yield from _pair(tmp_path, rate_limit=100_000)


def _pair(tmp_path: Path, *, rate_limit: int) -> Iterator[tuple[Server, Server]]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    database = create_pg_database()
    env = clean_env(
        ACCUNODE_ENV="test",
        ACCUNODE_DATABASE_URL=database,
        ACCUNODE_REDIS_URL=REDIS_URL,
        ACCUNODE_REDIS_PREFIX=f"e2e:{uuid.uuid4().hex}:",
        ACCUNODE_JWT_SECRET=TEST_SECRET,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_RATE_LIMIT_PER_MINUTE=str(rate_limit),
        ACCUNODE_DATA_DIR=str(tmp_path / "data"),
    )
    servers = (Server(env, tmp_path / "a.log"), Server(env, tmp_path / "b.log"))
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()
        drop_pg_database(database)


def test_two_servers_share_tokens_revocations_and_rate_limits(pair) -> None:
    a, b = pair
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    sent = 0

    def call(server: Server, method: str, path: str, **kwargs) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.request(method, f"{server.url}/api/v1{path}", timeout=10, **kwargs)

    assert (
        call(a, "POST", "/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 201
    )
    tokens = call(a, "POST", "/auth/login", json={"email": email, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = call(b, "POST", "/predictions/annual", json=annual_body(), headers=headers)
    assert created.status_code == 201  # a token from A works on B
    read = call(a, "GET", f"/predictions/annual/{created.json()['id']}", headers=headers)
    assert read.json()["probability"] == created.json()["probability"]

    logout = call(
        a, "POST", "/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert logout.status_code == 200
    assert call(b, "GET", "/users/profile", headers=headers).status_code == 401  # at once, on B
    refreshed = call(
        b, "POST", "/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401

    # The per-client budget (40 a minute) is one budget across both servers.
    statuses = []
    while sent < 40:
        statuses.append(call(a if sent % 2 else b, "GET", "/companies").status_code)
    assert 429 not in statuses
    assert call(a, "GET", "/companies").status_code == 429
    limited = call(b, "GET", "/companies")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # both wrote JSON log lines with request ids
    for server in (a, b):
        text = server.log.read_text()
        assert '"request_id"' in text and tokens["access_token"] not in text


def test_serve_with_no_configuration_uses_the_embedded_default(tmp_path: Path) -> None:
    server = Server(clean_env(ACCUNODE_DATA_DIR=str(tmp_path / "data")), tmp_path / "s.log")
    try:
        server.wait_ready()
        api = f"{server.url}/api/v1"
        body = {"email": "ann@example.com", "password": PASSWORD, "full_name": "Ann"}
        assert httpx.post(f"{api}/auth/register", json=body).status_code == 201
        token = httpx.post(f"{api}/auth/login", json=body | {"full_name": None}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        created = httpx.post(f"{api}/predictions/annual", json=annual_body(), headers=headers)
        assert created.status_code == 201
        ready = httpx.get(f"{api}/health/ready").json()
        assert ready["checks"]["redis"].startswith("not configured")
    finally:
        server.stop()
    assert (tmp_path / "data" / "accunode.db").exists()
    assert (tmp_path / "data" / "dev-jwt-secret").exists()  # generated, not a built-in default


def _race(servers: Sequence[Server], *, periods: int, copies: int, poison: int = 0) -> None:
    """Send every period ``copies`` times at once, spread over the servers; one of each wins.

    ``poison`` requests carry a value PostgreSQL refuses (a NUL byte): each fails alone (422)
    and the requests batched with it are stored all the same.
    """
    base = [f"{server.url}/api/v1" for server in servers]
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    httpx.post(f"{base[0]}/auth/register", json={"email": email, "password": PASSWORD})
    login = httpx.post(f"{base[0]}/auth/login", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    bodies = [
        annual_body(company_symbol=f"R{i % 5}", reporting_year=2000 + i, net_income_margin=i)
        for i in range(periods)
        for _ in range(copies)
    ]
    for i in range(poison):
        bodies.insert(7 * i, annual_body(company_symbol=f"NUL{i}", company_name="a\x00b"))

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30, headers=headers) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{base[n % len(base)]}/predictions/annual", json=body)
                    for n, body in enumerate(bodies)
                )
            )

    responses = asyncio.run(send_all())
    created = {
        (r.json()["company_symbol"], r.json()["reporting_year"]): r.json()
        for r in responses
        if r.status_code == 201
    }
    conflicts = [r for r in responses if r.status_code == 409]
    statuses = collections.Counter(r.status_code for r in responses)  # shown when it fails
    assert len(created) == periods and len(conflicts) == periods * (copies - 1), statuses
    refused = [r for r in responses if r.status_code == 422]
    assert len(refused) == poison
    assert all(r.json()["error"]["code"] == "invalid_input" for r in refused)
    assert {r.status_code for r in responses} == {201, 409} | ({422} if poison else set())
    winners = {body["id"] for body in created.values()}
    assert {r.json()["error"]["details"]["existing_id"] for r in conflicts} == winners
    for (symbol, year), body in created.items():  # each answer is its own request's score
        assert body["net_income_margin"] == year - 2000 and symbol == f"R{(year - 2000) % 5}"
    listed = httpx.get(f"{base[-1]}/predictions/annual?size=1", headers=headers).json()
    assert listed["total"] == periods
    companies = httpx.get(f"{base[0]}/companies?size=1", headers=headers).json()
    assert companies["total"] == 5  # created on first use, once each, despite the race


def test_concurrent_creations_across_two_servers_store_each_period_once(busy_pair) -> None:
    _race(busy_pair, periods=30, copies=3, poison=3)


def test_concurrent_creations_on_the_embedded_default_store_each_period_once(
    tmp_path: Path,
) -> None:
    env = clean_env(
        ACCUNODE_DATA_DIR=str(tmp_path / "data"),
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_RATE_LIMIT_PER_MINUTE="100000",
    )
    server = Server(env, tmp_path / "s.log")
    try:
        server.wait_ready()
        _race([server], periods=30, copies=3)
    finally:
        server.stop()
