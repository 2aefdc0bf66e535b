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
        assert samples[("accunode_job_queue_depth", frozenset())] == 0  # one series, not one each
        assert health == _value(
            _samples(scrapes[0]),
            "accunode_http_requests_total",
            method="GET",
            route=f"{API}/health",
            status="200",
        )


SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _upload(client: httpx.Client, path: Path, **form: str) -> str:
    with path.open("rb") as handle:
        answer = client.post(
            f"{API}/predictions/bulk-upload", files={"file": (path.name, handle)}, data=form
        )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def _finished(client: httpx.Client, job_id: str) -> dict:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"{API}/predictions/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def _sign_in(client: httpx.Client) -> None:
    account = {"email": f"jobs-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    assert client.post(f"{API}/auth/register", json=account).status_code == 201
    token = client.post(f"{API}/auth/login", json=account).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"


def test_metrics_count_the_rows_of_real_bulk_upload_jobs(tmp_path: Path) -> None:
    """Job rows processed, by kind and outcome, after real uploads; the queue is empty after."""
    rows = "accunode_job_rows_processed_total"
    server = Server(_env(tmp_path, ACCUNODE_METRICS="true"), tmp_path / "server.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            _sign_in(client)
            sample = _finished(client, _upload(client, SAMPLES / "annual_companies.csv"))
            assert (sample["rows_stored"], sample["rows_rejected"]) == (300, 0)
            first = _samples(client.get("/metrics").text)
            messy = _upload(client, SAMPLES / "messy_annual.csv", reporting_year="2024")
            assert _finished(client, messy)["rows_rejected"] == 2
            second = _samples(client.get("/metrics").text)
    finally:
        server.stop()
    assert _value(first, rows, kind="annual", outcome="scored") == 300
    assert (rows, frozenset({("kind", "annual"), ("outcome", "rejected")})) not in first
    assert _value(second, rows, kind="annual", outcome="scored") == 309  # + 9 of messy
    assert _value(second, rows, kind="annual", outcome="rejected") == 2
    assert (rows, frozenset({("kind", "quarterly"), ("outcome", "scored")})) not in second
    for scraped in (first, second):  # nothing left to do
        assert scraped[("accunode_job_queue_depth", frozenset())] == 0
        assert scraped[("accunode_jobs_queued", frozenset())] == 0


def test_queue_depth_is_what_the_database_has_left_whoever_runs_the_chunks(
    tmp_path: Path, pg_url: str
) -> None:
    """The API's scrape follows a job split and run by another process (as a worker would)."""
    from dbservers import REDIS_URL, truncate_all

    from accunode_cli.config import Settings
    from accunode_cli.jobs.context import build_context
    from accunode_cli.jobs.runner import prepare_job, run_chunk
    from accunode_cli.storage.db import make_engine

    engine = make_engine(pg_url)
    truncate_all(engine)
    prefix = f"test:metrics:{uuid.uuid4().hex}:"
    env = _env(
        tmp_path,
        ACCUNODE_METRICS="true",
        ACCUNODE_DATABASE_URL=pg_url,
        ACCUNODE_REDIS_URL=REDIS_URL,  # jobs go to the broker; no worker runs them
        ACCUNODE_REDIS_PREFIX=prefix,
    )
    server = Server(env, tmp_path / "server.log")
    depths: list[tuple[float, float]] = []
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:

            def depth() -> None:
                scraped = _samples(client.get("/metrics").text)
                depths.append(
                    (
                        scraped[("accunode_jobs_queued", frozenset())],
                        scraped[("accunode_job_queue_depth", frozenset())],
                    )
                )

            _sign_in(client)
            depth()
            job_id = uuid.UUID(_upload(client, SAMPLES / "annual_companies.csv"))
            depth()
            settings = Settings(env="test", data_dir=tmp_path / "data", database_url=pg_url)
            worker = build_context(settings, engine=engine)
            chunks = prepare_job(worker, job_id)  # split here, in this process
            assert len(chunks) == 1
            depth()
            assert run_chunk(worker, chunks[0]) == "succeeded"
            depth()
            assert _finished(client, str(job_id))["rows_stored"] == 300
    finally:
        server.stop()
        engine.dispose()
    assert depths == [(0, 0), (1, 0), (0, 1), (0, 0)]
