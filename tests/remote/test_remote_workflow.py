"""Acceptance 1: the whole remote workflow against real servers, then exit 4 after logout."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
from remote_helpers import PASSWORD, Stack

RATIOS = [
    "--long-term-debt-to-total-capital", "35", "--total-debt-to-ebitda", "2.1",
    "--net-income-margin", "8.5", "--ebit-to-interest-expense", "9.2",
    "--return-on-assets", "6.1",
]  # fmt: skip
QUARTERLY = [
    "--total-debt-to-ebitda", "2.4", "--sga-margin", "18",
    "--long-term-debt-to-total-capital", "38", "--return-on-capital", "7.5",
]  # fmt: skip


def _login(cli, stack: Stack, email: str) -> None:
    done = cli("login", "--api-url", stack.url, "--email", email, "--password-stdin",
               input=PASSWORD + "\n")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert f"Logged in to {stack.url} as {email}" in done.stdout


def test_login_saves_tokens_privately_never_the_password(cli, stack: Stack, config_dir: Path):
    email = stack.register()
    _login(cli, stack, email)
    saved = config_dir / "logins.json"
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    text = saved.read_text()
    assert PASSWORD not in text
    login = json.loads(text)["logins"][stack.url]
    assert login["email"] == email and login["refresh_token"] and login["kind"] == "password"
    me = cli("whoami", "--json").json()
    assert me == {**me, "api_url": stack.url, "email": email, "role": "owner",
                  "credential": "password"}  # fmt: skip
    wrong = cli("login", "--api-url", stack.url, "--email", email, "--password-stdin",
                input="not the password\n")  # fmt: skip
    assert wrong.exit_code == 4 and len(wrong.stderr.strip().splitlines()) == 1
    assert "refused: the email or password is wrong" in wrong.stderr


def test_the_remote_workflow_then_every_command_needs_a_login(cli, stack: Stack, config_dir: Path):
    email = stack.register()
    _login(cli, stack, email)
    # org list / switch (a shared organization made through the API)
    tokens = httpx.post(f"{stack.url}/api/v1/auth/login",
                        json={"email": email, "password": PASSWORD}).json()  # fmt: skip
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    team = httpx.post(f"{stack.url}/api/v1/organizations", json={"name": "Team Rocket"},
                      headers=headers).json()  # fmt: skip
    orgs = cli("org", "list", "--json").json()
    assert {o["name"] for o in orgs} == {"CLI User (personal)", "Team Rocket"} or len(orgs) == 2
    switched = cli("org", "switch", "Team Rocket")
    assert switched.exit_code == 0, switched.stderr
    assert cli("whoami", "--json").json()["organization_id"] == team["id"]
    # companies
    made = cli("company", "create", "--symbol", "ACME", "--name", "Acme Corp",
               "--sector", "Industrials", "--json")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    listed = cli("company", "list", "--json").json()
    assert [c["symbol"] for c in listed["items"]] == ["ACME"]
    updated = cli("company", "update", "acme", "--market-cap", "2500000000", "--json").json()
    assert updated["market_cap"] == 2.5e9
    # predict --remote, both kinds, printed like the local prediction plus the id
    local = cli("predict", "annual", "--company-symbol", "ACME", "--reporting-year", "2024",
                *RATIOS)  # fmt: skip
    remote = cli("predict", "annual", "--remote", "--company-symbol", "ACME",
                 "--reporting-year", "2024", *RATIOS)  # fmt: skip
    assert remote.exit_code == 0, remote.stderr
    remote_lines = remote.stdout.splitlines()
    stored_line = next(line for line in remote_lines if line.startswith("Stored as prediction"))
    assert [line for line in remote_lines if line != stored_line] == local.stdout.splitlines()
    annual_id = stored_line.split()[-1]
    local_json = cli(
        "predict",
        "quarterly",
        "--json",
        "--company-symbol",
        "ACME",
        "--reporting-year",
        "2024",
        "--reporting-quarter",
        "2",
        *QUARTERLY,
    ).json()
    quarterly = cli(
        "predict",
        "quarterly",
        "--remote",
        "--json",
        "--company-symbol",
        "ACME",
        "--reporting-year",
        "2024",
        "--reporting-quarter",
        "2",
        *QUARTERLY,
    ).json()
    assert {k: v for k, v in quarterly.items() if k != "id"} == local_json
    duplicate = cli("predict", "annual", "--remote", "--company-symbol", "ACME",
                    "--reporting-year", "2024", *RATIOS)  # fmt: skip
    assert duplicate.exit_code == 1 and annual_id in duplicate.stderr
    assert "already has an annual prediction for 2024" in duplicate.stderr
    # company show has the latest predictions; prediction list/show/delete
    shown = cli("company", "show", "ACME", "--json").json()
    assert shown["latest_annual_prediction"]["id"] == annual_id
    assert shown["latest_quarterly_prediction"]["id"] == quarterly["id"]
    page = cli("prediction", "list", "--kind", "quarterly", "--company", "ACME", "--json").json()
    assert [p["id"] for p in page["items"]] == [quarterly["id"]]
    one = cli("prediction", "show", annual_id, "--json").json()
    assert one["kind"] == "annual" and one["reporting_year"] == 2024
    assert cli("prediction", "delete", annual_id, "--yes").exit_code == 0
    assert cli("prediction", "show", annual_id).exit_code == 1
    assert cli("company", "delete", "ACME").exit_code == 2  # no terminal: --yes is required
    assert cli("company", "delete", "ACME", "--yes").exit_code == 0
    assert cli("company", "list", "--json").json()["items"] == []
    # logout revokes the session on the server and forgets it here
    saved = json.loads((config_dir / "logins.json").read_text())["logins"][stack.url]
    assert cli("logout").exit_code == 0
    assert json.loads((config_dir / "logins.json").read_text())["logins"] == {}
    for args in [
        ("whoami",), ("org", "list"), ("company", "list"), ("company", "show", "ACME"),
        ("prediction", "list"), ("api-key", "list"),
        ("predict", "annual", "--remote", "--company-symbol", "X", "--reporting-year", "2024"),
    ]:  # fmt: skip
        done = cli(*args)
        assert done.exit_code == 4, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "accunode login" in done.stderr
    as_json = cli("company", "list", "--json")
    assert as_json.exit_code == 4 and as_json.json()["error"]["code"] == "login_required"
    # the CLI's session is dead on the server; the separate API login is untouched
    dead = httpx.post(f"{stack.url}/api/v1/auth/refresh-token",
                      json={"refresh_token": saved["refresh_token"]})  # fmt: skip
    assert dead.status_code == 401
    alive = httpx.post(f"{stack.url}/api/v1/auth/refresh-token",
                       json={"refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert alive.status_code == 200
