"""Bulk-upload jobs through the API, embedded executor (a thread of the app) on both databases.

Acceptance 1-3 and 5 of issue 9: the sample files give bulk-score's probabilities to the last
bit, the messy file rejects its bad row with its reason, conflicts skip or replace row by row,
and every job route keeps tenants apart.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from api_helpers import API, register

from accunode_cli.config import Settings
from accunode_cli.server import create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
ACCUNODE = str(Path(sys.executable).parent / "accunode")


@pytest.fixture(params=["sqlite", "postgres"])
def job_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Embedded jobs (no Redis) on an empty SQLite file or PostgreSQL database."""
    from api_helpers import TEST_SECRET
    from dbservers import truncate_all

    from accunode_cli.storage.db import make_engine

    values: dict[str, Any] = {
        "env": "test",
        "data_dir": tmp_path / "data",
        "config_dir": tmp_path / "config",
        "jwt_secret": TEST_SECRET,
        "bcrypt_rounds": 4,
    }
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        truncate_all(engine)
        engine.dispose()
        values["database_url"] = url
    return Settings(**values)


@pytest.fixture
def jobs_client(job_settings: Settings) -> Any:
    from api_helpers import TestClient

    with TestClient(create_app(job_settings)) as client:
        yield client


def upload(client: Any, headers: dict[str, str], path: Path, **form: Any) -> Any:
    with path.open("rb") as handle:
        return client.post(
            f"{API}/predictions/bulk-upload",
            headers=headers,
            files={"file": (path.name, handle)},
            data={k: str(v) for k, v in form.items()},
        )


def wait_job(client: Any, headers: dict[str, str], job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{API}/predictions/jobs/{job_id}", headers=headers).json()
        if job["status"] not in ("queued", "running"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']}")


def results(client: Any, headers: dict[str, str], job_id: str, fmt: str = "parquet") -> pa.Table:
    response = client.get(
        f"{API}/predictions/jobs/{job_id}/results", params={"format": fmt}, headers=headers
    )
    assert response.status_code == 200, response.text
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(response.content))
    return pcsv.read_csv(io.BytesIO(response.content))


def local_scores(path: Path, tmp_path: Path) -> pa.Table:
    out = tmp_path / f"{path.stem}.local.parquet"
    done = subprocess.run(
        [ACCUNODE, "bulk-score", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return pq.read_table(out)


@pytest.mark.parametrize(
    ("sample", "kind"),
    [("annual_companies.csv", "annual"), ("quarterly_companies.csv", "quarterly")],
)
def test_sample_files_score_like_bulk_score_to_the_last_bit(
    jobs_client: Any, tmp_path: Path, sample: str, kind: str
) -> None:
    user = register(jobs_client)
    created = upload(jobs_client, user["headers"], SAMPLES / sample)
    assert created.status_code == 202, created.text
    assert created.json()["kind"] == kind
    job = wait_job(jobs_client, user["headers"], created.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["rows_total"] == job["rows_processed"] == 300
    table = results(jobs_client, user["headers"], job["id"])
    local = local_scores(SAMPLES / sample, tmp_path)
    assert table.num_rows == 300
    assert table.column("probability").to_pylist() == local.column("probability").to_pylist()
    assert table.column("risk_level").to_pylist() == local.column("risk_level").to_pylist()
    assert table.column("company_symbol").to_pylist() == local.column("company_symbol").to_pylist()
    statuses = set(table.column("status").to_pylist())
    assert statuses <= {"stored", "rejected"}
    stored = table.column("status").to_pylist().count("stored")
    assert stored == job["rows_stored"]
    listed = jobs_client.get(
        f"{API}/predictions/{kind}",
        params={"job_id": job["id"], "size": 100},
        headers=user["headers"],
    ).json()
    assert listed["total"] == stored
    assert {item["job_id"] for item in listed["items"]} == {job["id"]}
    ids = set(table.column("prediction_id").to_pylist()) - {None}
    assert {item["id"] for item in listed["items"]} <= ids
    csv_table = results(jobs_client, user["headers"], job["id"], "csv")
    assert csv_table.column("probability").to_pylist() == local.column("probability").to_pylist()
    # Each stored row is an ordinary prediction: the same fields, to the bit, as the single
    # route's scoring of its stored ratios (the job writes contributions and flags its own way).
    # A not-meaningful ratio is stored blank, so only rows whose flags all say "missing" can be
    # rescored from what is stored; every row's contributions add up to its score.
    from accunode_cli.scoring import STATUS_NAMES, load_model

    model = load_model(kind)
    items = []
    for page in range(1, 4):
        items += jobs_client.get(
            f"{API}/predictions/{kind}",
            params={"job_id": job["id"], "size": 100, "page": page},
            headers=user["headers"],
        ).json()["items"]
    assert len(items) == stored
    rescored = 0
    for item in items:
        expected = model.score_one({name: item[name] for name in model.ratio_names})
        total = expected.base_log_odds + sum(item["contributions"].values())
        assert abs(total - item["log_odds"]) < 1e-9
        assert set(item["contributions"]) == set(model.ratio_names)
        assert set(item["flags"].values()) <= set(STATUS_NAMES.values()) - {"ok"}
        if set(item["flags"].values()) <= {"missing"}:
            rescored += 1
            assert item["flags"] == expected.flags
            assert item["contributions"] == expected.contributions
            assert (item["probability"], item["log_odds"]) == (
                expected.probability,
                expected.log_odds,
            )
            assert (item["risk_level"], item["implied_rating"]) == (
                expected.risk_level,
                expected.implied_rating,
            )
    assert rescored > stored // 2
    assert any(item["flags"] for item in items)  # the flags travel as codes on PostgreSQL


def test_the_messy_file_rejects_its_bad_row_with_its_reason(jobs_client: Any) -> None:
    user = register(jobs_client)
    created = upload(
        jobs_client, user["headers"], SAMPLES / "messy_annual.csv", reporting_year=2024
    )
    assert created.status_code == 202, created.text
    job = wait_job(jobs_client, user["headers"], created.json()["id"])
    assert job["status"] == "succeeded"
    assert (job["rows_stored"], job["rows_rejected"]) == (9, 2)  # MISS: no ratio values
    table = results(jobs_client, user["headers"], job["id"]).to_pylist()
    bad = [row for row in table if row["status"] == "rejected"]
    assert [row["Company Symbol"] for row in bad] == ["MISS", "BAD"]
    assert bad[0]["error"] == "no ratio values"
    assert "abc" in bad[1]["error"] and bad[1]["prediction_id"] is None
    errors = jobs_client.get(f"{API}/predictions/jobs/{job['id']}/errors", headers=user["headers"])
    assert errors.status_code == 200
    lines = errors.text.strip().splitlines()
    assert lines[0] == "row,column,value,reason"
    assert len(lines) == 3 and lines[1].startswith("6,,,no ratio values")
    assert lines[2].startswith("11,Net Income Margin,abc,")


def test_a_file_with_no_usable_columns_is_refused_before_a_job_exists(
    jobs_client: Any, tmp_path: Path
) -> None:
    user = register(jobs_client)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    refused = upload(jobs_client, user["headers"], bad)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "bad_columns"
    assert "bad.csv" in refused.json()["error"]["message"]
    no_year = upload(jobs_client, user["headers"], SAMPLES / "messy_annual.csv")
    assert no_year.status_code == 422 and "reporting_year" in no_year.json()["error"]["message"]
    listed = jobs_client.get(f"{API}/predictions/jobs", headers=user["headers"]).json()
    assert listed["total"] == 0


CONFLICTS = (
    "company_symbol,company_name,reporting_year,long_term_debt_to_total_capital,"
    "total_debt_to_ebitda,net_income_margin,ebit_to_interest_expense,return_on_assets\n"
    "ACME,Acme Corp,2024,35,2.1,8.5,9.2,6.1\n"  # already stored through the single route
    "NEWC,New Co,2024,20,1.0,5.0,4.0,3.0\n"
    "newc,New Co,2024,80,6.0,-5.0,0.5,-3.0\n"  # the same company (symbols fold) and period
    ",No Symbol,2024,20,1.0,5.0,4.0,3.0\n"
)


@pytest.mark.parametrize("on_conflict", ["skip", "replace"])
def test_conflicts_follow_on_conflict_row_by_row(
    jobs_client: Any, tmp_path: Path, on_conflict: str
) -> None:
    user = register(jobs_client)
    headers = user["headers"]
    existing = jobs_client.post(
        f"{API}/predictions/annual",
        headers=headers,
        json={
            "company_symbol": "ACME",
            "company_name": "Acme Corp",
            "reporting_year": 2024,
            "long_term_debt_to_total_capital": 90.0,
            "total_debt_to_ebitda": 9.0,
            "net_income_margin": -20.0,
            "ebit_to_interest_expense": 0.2,
            "return_on_assets": -9.0,
        },
    ).json()
    # read it once: the read is cached, and a replacing job must not leave it stale
    warm = jobs_client.get(f"{API}/predictions/annual/{existing['id']}", headers=headers)
    assert warm.json()["probability"] == existing["probability"]
    path = tmp_path / "conflicts.csv"
    path.write_text(CONFLICTS)
    created = upload(jobs_client, headers, path, on_conflict=on_conflict)
    assert created.status_code == 202, created.text
    job = wait_job(jobs_client, headers, created.json()["id"])
    assert job["status"] == "succeeded"
    rows = results(jobs_client, headers, job["id"], "csv").to_pylist()
    statuses = [row["status"] for row in rows]
    ids = [row["prediction_id"] for row in rows]
    assert statuses[3] == "rejected" and "company_symbol" in rows[3]["error"]
    assert ids[0] == existing["id"] and ids[1] == ids[2]
    stored = jobs_client.get(f"{API}/predictions/annual/{existing['id']}", headers=headers).json()
    newc = jobs_client.get(f"{API}/predictions/annual/{ids[1]}", headers=headers).json()
    if on_conflict == "skip":
        assert statuses[:3] == ["conflict", "stored", "conflict"]
        assert (job["rows_stored"], job["rows_conflicting"], job["rows_rejected"]) == (1, 2, 1)
        assert stored["probability"] == existing["probability"]
        assert newc["long_term_debt_to_total_capital"] == 20.0 and newc["row_number"] == 2
    else:
        assert statuses[:3] == ["replaced", "stored", "stored"]
        assert stored["probability"] == rows[0]["probability"] != existing["probability"]
        assert stored["job_id"] == job["id"] and stored["row_number"] == 1
        assert newc["long_term_debt_to_total_capital"] == 80.0 and newc["row_number"] == 3
    listed = jobs_client.get(f"{API}/predictions/annual", headers=headers).json()
    assert listed["total"] == 2


def test_job_routes_keep_organizations_apart_and_viewers_read_only(
    jobs_client: Any, tmp_path: Path
) -> None:
    owner, other = register(jobs_client), register(jobs_client)
    created = upload(jobs_client, owner["headers"], SAMPLES / "annual_companies.csv")
    job_id = created.json()["id"]
    wait_job(jobs_client, owner["headers"], job_id)
    base = f"{API}/predictions/jobs/{job_id}"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/results"),
        ("GET", f"{base}/errors"),
        ("POST", f"{base}/cancel"),
        ("DELETE", base),
    ]:
        response = jobs_client.request(method, path, headers=other["headers"])
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert jobs_client.get(f"{API}/predictions/jobs", headers=other["headers"]).json()["total"] == 0
    # a viewer of the owner's organization reads jobs but cannot upload, cancel or delete
    viewer = register(jobs_client)
    invite = jobs_client.post(
        f"{API}/organizations/{owner['org_id']}/invitations",
        headers=owner["headers"],
        json={"email": viewer["email"], "role": "viewer"},
    )
    assert invite.status_code in (200, 201), invite.text
    token = invite.json()["token"]
    accepted = jobs_client.post(
        f"{API}/organizations/invitations/accept", headers=viewer["headers"], json={"token": token}
    )
    assert accepted.status_code in (200, 201), accepted.text
    as_viewer = {**viewer["headers"], "X-Organization-ID": owner["org_id"]}
    assert jobs_client.get(base, headers=as_viewer).status_code == 200
    refused = upload(jobs_client, as_viewer, SAMPLES / "annual_companies.csv")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert jobs_client.delete(base, headers=as_viewer).status_code == 403
    assert jobs_client.delete(base, headers=owner["headers"]).status_code == 200
    assert jobs_client.get(base, headers=owner["headers"]).status_code == 404


@pytest.fixture
def queue_only_settings(tmp_path: Path, pg_url: str) -> Settings:
    """PostgreSQL + Redis with no worker running: jobs stay queued (dramatiq's broker)."""
    import uuid

    from api_helpers import TEST_SECRET
    from dbservers import REDIS_URL, truncate_all

    from accunode_cli.storage.db import make_engine

    engine = make_engine(pg_url)
    truncate_all(engine)
    engine.dispose()
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        config_dir=tmp_path / "config",
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        redis_url=REDIS_URL,
        redis_prefix=f"test:{uuid.uuid4().hex}:",
        max_active_jobs=1,
        max_upload_bytes=200_000,
        database_url=pg_url,
    )


def test_active_jobs_are_limited_cancel_stops_one_and_oversized_uploads_are_refused(
    queue_only_settings: Settings, tmp_path: Path
) -> None:
    from api_helpers import TestClient

    with TestClient(create_app(queue_only_settings)) as client:
        user = register(client)
        headers = user["headers"]
        first = upload(client, headers, SAMPLES / "annual_companies.csv")
        assert first.status_code == 202 and first.json()["status"] == "queued"
        second = upload(client, headers, SAMPLES / "quarterly_companies.csv")
        assert second.status_code == 429, second.text
        assert second.json()["error"]["code"] == "rate_limited"
        assert "at most 1" in second.json()["error"]["message"]
        job_id = first.json()["id"]
        not_ready = client.get(f"{API}/predictions/jobs/{job_id}/results", headers=headers)
        assert not_ready.status_code == 409
        cancelled = client.post(f"{API}/predictions/jobs/{job_id}/cancel", headers=headers)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        again = client.post(f"{API}/predictions/jobs/{job_id}/cancel", headers=headers)
        assert again.status_code == 409
        listed = client.get(
            f"{API}/predictions/jobs", params={"status": "cancelled"}, headers=headers
        ).json()
        assert [job["id"] for job in listed["items"]] == [job_id]
        big = tmp_path / "big.csv"
        text = (SAMPLES / "annual_companies.csv").read_text()
        big.write_text(text + "\n".join(text.splitlines()[1:]) * 10)
        refused = upload(client, headers, big)
        assert refused.status_code == 413, refused.text
        assert refused.json()["error"]["code"] == "payload_too_large"
        assert client.get(f"{API}/predictions/jobs", headers=headers).json()["total"] == 1


def _formats(tmp_path: Path) -> list[tuple[Path, dict[str, str]]]:
    """The annual sample as gzip CSV, TSV, JSON lines, Parquet and an Excel sheet."""
    import gzip
    import json

    from openpyxl import Workbook

    table = pcsv.read_csv(
        SAMPLES / "annual_companies.csv",
        convert_options=pcsv.ConvertOptions(
            column_types={"company_symbol": pa.string(), "company_name": pa.string()}
        ),
    )
    gz = tmp_path / "annual.csv.gz"
    gz.write_bytes(gzip.compress((SAMPLES / "annual_companies.csv").read_bytes()))
    tsv = tmp_path / "annual.tsv"
    tsv.write_text((SAMPLES / "annual_companies.csv").read_text().replace(",", "\t"))
    jsonl = tmp_path / "annual.jsonl"
    jsonl.write_text("\n".join(json.dumps(row) for row in table.to_pylist()) + "\n")
    parquet = tmp_path / "annual.parquet"
    pq.write_table(table, parquet)
    xlsx = tmp_path / "annual.xlsx"
    book = Workbook()
    book.active.title = "cover"
    sheet = book.create_sheet("portfolio")
    sheet.append(table.schema.names)
    for row in table.to_pylist():
        sheet.append(list(row.values()))
    book.save(xlsx)
    return [(gz, {}), (tsv, {}), (jsonl, {}), (parquet, {}), (xlsx, {"sheet": "portfolio"})]


def test_every_format_bulk_score_reads_gives_the_same_scores(
    jobs_client: Any, tmp_path: Path
) -> None:
    user = register(jobs_client)
    reference = local_scores(SAMPLES / "annual_companies.csv", tmp_path)
    expected = reference.column("probability").to_pylist()
    for path, form in _formats(tmp_path):
        created = upload(jobs_client, user["headers"], path, on_conflict="replace", **form)
        assert created.status_code == 202, (path.name, created.text)
        job = wait_job(jobs_client, user["headers"], created.json()["id"])
        assert job["status"] == "succeeded", (path.name, job)
        table = results(jobs_client, user["headers"], job["id"])
        assert table.column("probability").to_pylist() == expected, path.name


def test_fractions_are_flagged_on_the_job_and_scaled_with_percent_fraction(
    jobs_client: Any, tmp_path: Path
) -> None:
    """As bulk-score: percentages divided by 100 get one warning on the job; percent=fraction
    multiplies them back, to the probabilities of the file in points."""
    source = SAMPLES / "fractions_annual.csv"
    user = register(jobs_client)
    warned = wait_job(
        jobs_client, user["headers"], upload(jobs_client, user["headers"], source).json()["id"]
    )
    assert warned["status"] == "succeeded" and warned["percent"] is None
    assert len(warned["warnings"]) == 1 and "look like fractions" in warned["warnings"][0]
    assert "percent=fraction" in warned["warnings"][0]
    other = register(jobs_client)  # its own organization: nothing conflicts
    created = upload(jobs_client, other["headers"], source, percent="fraction")
    assert created.status_code == 202 and created.json()["percent"] == "fraction"
    fixed = wait_job(jobs_client, other["headers"], created.json()["id"])
    assert fixed["status"] == "succeeded" and fixed["warnings"] == []
    table = results(jobs_client, other["headers"], fixed["id"])
    points = local_scores(SAMPLES / "annual_companies.csv", tmp_path)
    assert table.column("probability").to_pylist() == points.column("probability").to_pylist()
    bad = upload(jobs_client, other["headers"], source, percent="percent")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


def test_map_and_header_row_read_the_file_as_bulk_score_does(
    jobs_client: Any, tmp_path: Path
) -> None:
    """`map` and `header_row` are bulk-score's --map and --header-row: the same file gives
    the same probabilities through a job; a map naming no column is a 422 and no job."""
    user = register(jobs_client)
    headers = user["headers"]
    runner_out = tmp_path / "local.parquet"
    bloomberg = SAMPLES / "bloomberg_export.csv"
    done = subprocess.run(
        [ACCUNODE, "bulk-score", str(bloomberg), "--map", "PROF_MARGIN=net_income_margin",
         "-o", str(runner_out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    created = upload(
        jobs_client, headers, bloomberg, reporting_year=2024, map="PROF_MARGIN=net_income_margin"
    )
    assert created.status_code == 202, created.text
    assert created.json()["column_map"] == {"PROF_MARGIN": "net_income_margin"}
    job = wait_job(jobs_client, headers, created.json()["id"])
    assert job["status"] == "succeeded", job
    table = results(jobs_client, headers, job["id"])
    expected = pq.read_table(runner_out).column("probability").to_pylist()
    assert table.column("probability").to_pylist() == expected
    assert job["rows_stored"] == len(expected)

    workbook = SAMPLES / "analyst_screen.xlsx"
    local = tmp_path / "screen.parquet"
    done = subprocess.run(
        [ACCUNODE, "bulk-score", str(workbook), "--header-row", "4", "-o", str(local)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    other = register(jobs_client)
    created = upload(jobs_client, other["headers"], workbook, reporting_year=2024, header_row=4)
    assert created.status_code == 202, created.text
    job = wait_job(jobs_client, other["headers"], created.json()["id"])
    assert job["status"] == "succeeded" and job["header_row"] == 4, job
    expected = pq.read_table(local).column("probability").to_pylist()
    table = results(jobs_client, other["headers"], job["id"])
    assert table.column("probability").to_pylist() == expected

    for bad in ("NO_SUCH_COLUMN=net_income_margin", "PROF_MARGIN"):
        refused = upload(jobs_client, headers, bloomberg, reporting_year=2024, map=bad)
        assert refused.status_code == 422, refused.text
    listed = jobs_client.get(f"{API}/predictions/jobs", headers=headers).json()
    assert listed["total"] == 1  # the refused uploads made no job
