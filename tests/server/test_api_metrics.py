"""GET /metrics on a real `accunode serve`: the counts of real requests, no tenant data, off by
default, and one set of numbers over several uvicorn workers (multiprocess mode)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from api_helpers import PASSWORD, TEST_SECRET, Server, annual_body, clean_env

API = "/api/v1"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        ACCUNODE_ENV="test",
        ACCUNODE_JWT_SECRET=TEST_SECRET,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_DATA_DIR=str(tmp_path / "data"),
        **extra,
    )


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_real_requests_by_route_template_and_status(tmp_path: Path) -> None:
    server = Server(_env(tmp_path, ACCUNODE_METRICS="true"), tmp_path / "server.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(3):
                assert client.get(f"{API}/health").status_code == 200
            email = f"metrics-{uuid.uuid4().hex[:8]}@example.com"
            account = {"email": email, "password": PASSWORD}
            assert client.post(f"{API}/auth/register", json=account).status_code == 201
            token = client.post(f"{API}/auth/login", json=account).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            first = client.post(f"{API}/predictions/annual", json=annual_body(company_symbol="S1"))
            second = client.post(f"{API}/predictions/annual", json=annual_body(company_symbol="S2"))
            again = client.post(f"{API}/predictions/annual", json=annual_body(company_symbol="S1"))
            assert (first.status_code, second.status_code, again.status_code) == (201, 201, 409)
            ids = [first.json()["id"], second.json()["id"]]
            for prediction_id in ids:
                assert client.get(f"{API}/predictions/annual/{prediction_id}").status_code == 200
            assert client.get(f"{API}/predictions/annual/{uuid.uuid4()}").status_code == 404
            assert client.get("/no/such/page").status_code == 404
            scraped = client.get("/metrics")
    finally:
        server.stop()

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    samples = _samples(text)
    requests = "accunode_http_requests_total"
    assert _value(samples, requests, method="GET", route=f"{API}/health", status="200") == 3
    route = f"{API}/predictions/annual"
    assert _value(samples, requests, method="POST", route=route, status="201") == 2
    assert _value(samples, requests, method="POST", route=route, status="409") == 1
    one = f"{API}/predictions/annual/{{prediction_id}}"
    assert _value(samples, requests, method="GET", route=one, status="200") == 2
    assert _value(samples, requests, method="GET", route=one, status="404") == 1
    assert _value(samples, requests, method="GET", route="<unmatched>", status="404") == 1
    latency = "accunode_http_request_duration_seconds_count"
    assert _value(samples, latency, method="POST", route=route) == 3
    assert _value(samples, "accunode_predictions_scored_total", kind="annual") == 2
    assert _value(samples, "accunode_db_pool_capacity") > 0
    assert ("accunode_db_connections_in_use", frozenset()) in samples
    assert ("accunode_job_rows_processed_total", frozenset()) not in samples  # labelled only
    # Nothing of a tenant: no e-mail, no id, no symbol, no raw path.
    for secret in (email, *ids, "S1", "S2", "/no/such/page"):
        assert secret not in text


def test_metrics_are_off_unless_enabled(tmp_path: Path) -> None:
    server = Server(_env(tmp_path), tmp_path / "server.log")
    try:
        server.wait_ready()
        answer = httpx.get(f"{server.url}/metrics", timeout=10)
    finally:
        server.stop()
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_several_workers_report_one_set_of_numbers(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"")  # a stale file from an earlier run is cleared
    env = _env(
        tmp_path,
        ACCUNODE_METRICS="true",
        ACCUNODE_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(shared),
    )
    server = Server(env, tmp_path / "server.log")
    try:
        server.wait_ready()
        for _ in range(40):  # a new connection each: the two workers share them
            assert httpx.get(f"{server.url}{API}/health", timeout=10).status_code == 200
        scrapes = [httpx.get(f"{server.url}/metrics", timeout=10).text for _ in range(6)]
        writers = {path.stem.split("_")[-1] for path in shared.glob("counter_*.db")}
    finally:
        server.stop()
    assert len(writers) == 2, f"both workers counted: {sorted(writers)}"
    for text in scrapes:
        samples = _samples(text)
        health = _value(
            samples,
            "accunode_http_requests_total",
            method="GET",
            route=f"{API}/health",
            status="200",
        )
        assert health >= 40  # every worker's count, whichever worker answers the scrape
        assert health == _value(
            _samples(scrapes[0]),
            "accunode_http_requests_total",
            method="GET",
            route=f"{API}/health",
            status="200",
        )
