"""GET /predictions/jobs/{id}/drift (issue 14, acceptance 1: the CLI and the job route agree on
the same data), its tenancy (another organization 404, viewers read) and 409 while unfinished.
Embedded jobs on SQLite and PostgreSQL; the unfinished job waits on a real Redis broker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import test_api_jobs
from api_helpers import API, register
from test_api_jobs import ACCUNODE, SAMPLES, upload, wait_job

from accunode_cli.config import Settings
from accunode_cli.server import create_app

# The job tests' fixtures: embedded jobs on SQLite and PostgreSQL; jobs that stay queued.
job_settings = test_api_jobs.job_settings
jobs_client = test_api_jobs.jobs_client
queue_only_settings = test_api_jobs.queue_only_settings


def cli_drift(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [ACCUNODE, "drift", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("sample", "form"),
    [
        ("annual_companies.csv", {}),
        ("quarterly_companies.csv", {}),
        ("messy_annual.csv", {"reporting_year": 2024}),  # a cell that is no number
        ("european_annual.csv", {"reporting_year": 2024}),  # semicolons, decimal commas
    ],
)
def test_the_job_route_and_the_cli_agree_on_the_same_file(
    jobs_client: Any, sample: str, form: dict[str, Any]
) -> None:
    user = register(jobs_client)
    created = upload(jobs_client, user["headers"], SAMPLES / sample, **form)
    assert created.status_code == 202, created.text
    job = wait_job(jobs_client, user["headers"], created.json()["id"])
    assert job["status"] == "succeeded", job
    answer = jobs_client.get(f"{API}/predictions/jobs/{job['id']}/drift", headers=user["headers"])
    assert answer.status_code == 200, answer.text
    route = answer.json()
    assert route.pop("job_id") == job["id"]
    cli = cli_drift(SAMPLES / sample)
    assert cli.pop("current") == str(SAMPLES / sample)
    assert cli.pop("report_files") == []
    assert route == cli  # every PSI, share, count and mean PD, to the last digit
    assert route["rows"]["current"] + route["rejected_rows"] == job["rows_total"]
    if sample == "messy_annual.csv":
        assert route["rejected_rows"] == 1  # the "abc" cell; the row without ratios counts


def test_another_organization_gets_404_and_a_viewer_reads(jobs_client: Any) -> None:
    owner, other = register(jobs_client), register(jobs_client)
    created = upload(jobs_client, owner["headers"], SAMPLES / "annual_companies.csv")
    job_id = created.json()["id"]
    wait_job(jobs_client, owner["headers"], job_id)
    path = f"{API}/predictions/jobs/{job_id}/drift"
    refused = jobs_client.get(path, headers=other["headers"])
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"]["code"] == "not_found"
    unknown = jobs_client.get(
        f"{API}/predictions/jobs/00000000-0000-4000-8000-000000000000/drift",
        headers=owner["headers"],
    )
    assert unknown.status_code == 404
    viewer = register(jobs_client)
    invite = jobs_client.post(
        f"{API}/organizations/{owner['org_id']}/invitations",
        headers=owner["headers"],
        json={"email": viewer["email"], "role": "viewer"},
    )
    assert invite.status_code in (200, 201), invite.text
    accepted = jobs_client.post(
        f"{API}/organizations/invitations/accept",
        headers=viewer["headers"],
        json={"token": invite.json()["token"]},
    )
    assert accepted.status_code in (200, 201), accepted.text
    as_viewer = {**viewer["headers"], "X-Organization-ID": owner["org_id"]}
    read = jobs_client.get(path, headers=as_viewer)
    assert read.status_code == 200, read.text
    assert read.json() == jobs_client.get(path, headers=owner["headers"]).json()


def test_an_unfinished_job_answers_409_with_the_envelope(
    queue_only_settings: Settings,
) -> None:
    from api_helpers import TestClient

    with TestClient(create_app(queue_only_settings)) as client:
        user = register(client)
        created = upload(client, user["headers"], SAMPLES / "annual_companies.csv")
        assert created.status_code == 202 and created.json()["status"] == "queued"
        job_id = created.json()["id"]
        answer = client.get(f"{API}/predictions/jobs/{job_id}/drift", headers=user["headers"])
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["code"] == "conflict"
        assert error["message"] == "the job is still queued; its results are ready when it ends"
        assert error["details"] == {"id": job_id, "status": "queued"}
