"""Acceptance 3 (and the bulk part of 2): bulk-score --remote and the job commands.

They need the bulk-upload jobs API of issue 9 on the server.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from remote_helpers import PASSWORD, Stack

ROOT = Path(__file__).resolve().parents[2]
ANNUAL = ROOT / "sample_data" / "annual_companies.csv"
MESSY = ROOT / "sample_data" / "messy_annual.csv"


@pytest.fixture(autouse=True)
def _needs_jobs(stack: Stack) -> None:
    if not stack.has_jobs():
        pytest.skip("this server has no bulk-upload jobs API yet (issue 9 is not merged)")


def _login(cli, stack: Stack) -> None:
    done = cli(
        "login", "--api-url", stack.url, "--email", stack.register(), "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr


def test_bulk_score_remote_matches_the_local_run(cli, stack: Stack, tmp_path: Path) -> None:
    _login(cli, stack)
    local = tmp_path / "local.csv"
    assert cli("bulk-score", str(ANNUAL), "-o", str(local)).exit_code == 0
    remote = tmp_path / "remote.csv"
    done = cli(
        "bulk-score", str(ANNUAL), "--remote", "-o", str(remote), "--timeout", "120", "--json"
    )
    assert done.exit_code == 0, done.stderr
    summary = done.json()
    local_summary = cli("bulk-score", str(ANNUAL), "-o", str(tmp_path / "again.csv"), "--json")
    expected = local_summary.json()
    for key in ("kind", "model_version", "rows", "scored", "rejected", "risk_levels",
                "implied_ratings", "missing_by_ratio", "not_meaningful_by_ratio"):  # fmt: skip
        assert summary[key] == expected[key], key
    assert summary["stored"] == 300
    ours, theirs = pcsv.read_csv(remote), pcsv.read_csv(local)
    assert ours.num_rows == theirs.num_rows == 300
    assert ours["probability"].to_pylist() == theirs["probability"].to_pylist()
    assert ours["company_symbol"].to_pylist() == theirs["company_symbol"].to_pylist()
    assert set(ours["status"].to_pylist()) == {"stored"}
    assert all(ours["prediction_id"].to_pylist())
    # the stored predictions are ordinary predictions
    listed = cli("prediction", "list", "--json").json()
    assert listed["total"] == 300
    jobs = cli("job", "list", "--json").json()
    job_id = jobs["items"][0]["id"]
    assert summary["job_id"] == job_id and jobs["items"][0]["status"] == "succeeded"
    parquet = tmp_path / "again.parquet"
    assert cli("job", "download", job_id, "-o", str(parquet)).exit_code == 0
    assert pq.read_table(parquet)["probability"].to_pylist() == theirs["probability"].to_pylist()
    again = cli("bulk-score", str(ANNUAL), "--remote", "-o", str(tmp_path / "skip.csv"), "--json")
    assert again.exit_code == 0 and again.json()["conflicting"] == 300
    over = cli("job", "cancel", job_id)
    assert over.exit_code == 1 and len(over.stderr.strip().splitlines()) == 1


def test_no_wait_then_job_wait_and_rejected_rows(cli, stack: Stack, tmp_path: Path) -> None:
    _login(cli, stack)
    started = cli("bulk-score", str(MESSY), "--remote", "--no-wait", "--reporting-year", "2024")
    assert started.exit_code == 0, started.stderr
    job_id = started.stdout.strip().splitlines()[0]
    waited = cli("job", "wait", job_id, "--timeout", "120", "--json")
    assert waited.json()["id"] == job_id
    errors = tmp_path / "errors.csv"
    assert cli("job", "errors", job_id, "-o", str(errors)).exit_code == 0
    assert errors.read_text().splitlines()[0].startswith("row")
    shown = cli("job", "show", job_id, "--json").json()
    assert shown["rows_rejected"] >= 1


def test_ci_bulk_score_with_an_api_key_writes_nothing(cli, stack: Stack, tmp_path: Path) -> None:
    _login(cli, stack)
    key = cli("api-key", "create", "--name", "ci", "--json").json()["key"]
    empty = tmp_path / "ci-config"
    env = {"ACCUNODE_API_URL": stack.url, "ACCUNODE_TOKEN": key, "ACCUNODE_CONFIG_DIR": str(empty)}
    out = tmp_path / "ci.parquet"
    done = cli("bulk-score", str(ANNUAL), "--remote", "-o", str(out), env=env)
    assert done.exit_code == 0, done.stderr
    assert pq.read_table(out).num_rows == 300 and not empty.exists()


def test_percent_options_travel_with_the_upload(cli, stack: Stack, tmp_path: Path) -> None:
    """The server's fraction check warns as a local run does; --percent-as-fraction reaches
    the job, whose results then equal the file in points."""
    _login(cli, stack)
    fractions = ROOT / "sample_data" / "fractions_annual.csv"
    warned = cli("bulk-score", str(fractions), "--remote", "-o", str(tmp_path / "w.csv"), "--json")
    assert warned.exit_code == 0, warned.stderr
    assert len(warned.json()["warnings"]) == 1 and "look like fractions" in warned.stderr
    cli("logout")
    _login(cli, stack)  # a new account, a new organization: nothing conflicts
    fixed = tmp_path / "fixed.csv"
    done = cli(
        "bulk-score", str(fractions), "--remote", "--percent-as-fraction", "-o", str(fixed),
        "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert done.json()["warnings"] == [] and done.json()["stored"] == 300
    local = tmp_path / "points.csv"
    assert cli("bulk-score", str(ANNUAL), "-o", str(local)).exit_code == 0
    expected = pcsv.read_csv(local)["probability"].to_pylist()
    assert pcsv.read_csv(fixed)["probability"].to_pylist() == expected


def test_map_and_header_row_travel_with_the_upload(cli, stack: Stack, tmp_path: Path) -> None:
    _login(cli, stack)
    bloomberg = ROOT / "sample_data" / "bloomberg_export.csv"
    local = tmp_path / "local.csv"
    mapped = ("--map", "PROF_MARGIN=net_income_margin")
    assert cli("bulk-score", str(bloomberg), *mapped, "-o", str(local)).exit_code == 0
    remote = tmp_path / "remote.csv"
    done = cli(
        "bulk-score", str(bloomberg), *mapped, "--remote", "--reporting-year", "2024",
        "-o", str(remote),
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    expected = pcsv.read_csv(local)["probability"].to_pylist()
    assert pcsv.read_csv(remote)["probability"].to_pylist() == expected
    workbook = ROOT / "sample_data" / "analyst_screen.xlsx"
    local = tmp_path / "screen.csv"
    assert cli("bulk-score", str(workbook), "--header-row", "4", "-o", str(local)).exit_code == 0
    remote = tmp_path / "screen_remote.csv"
    done = cli(
        "bulk-score", str(workbook), "--header-row", "4", "--remote", "--reporting-year", "2025",
        "-o", str(remote),
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    expected = pcsv.read_csv(local)["probability"].to_pylist()
    assert pcsv.read_csv(remote)["probability"].to_pylist() == expected
