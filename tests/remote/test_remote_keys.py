"""Acceptance 2 and 6: an API key in CI with nothing saved; a viewer's key; other tenants' ids."""

from __future__ import annotations

from pathlib import Path

from remote_helpers import PASSWORD, Stack


def _login(cli, stack: Stack, email: str) -> None:
    done = cli(
        "login", "--api-url", stack.url, "--email", email, "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr


def test_ci_flow_with_an_api_key_and_nothing_saved(cli, stack: Stack, tmp_path: Path) -> None:
    _login(cli, stack, stack.register())
    made = cli("api-key", "create", "--name", "nightly CI", "--role", "analyst", "--json")
    assert made.exit_code == 0, made.stderr
    key = made.json()
    assert key["key"].startswith("acn_") and key["role"] == "analyst"
    plain = cli("api-key", "create", "--name", "shown once")
    assert plain.stdout.strip().startswith("acn_") and "only time" in plain.stderr
    assert cli("company", "create", "--symbol", "CI1", "--name", "CI One").exit_code == 0
    empty = tmp_path / "ci-config"
    for server in stack.servers:
        ci = {"ACCUNODE_API_URL": server.url, "ACCUNODE_TOKEN": key["key"]}
        ci["ACCUNODE_CONFIG_DIR"] = str(empty)
        listed = cli("company", "list", "--json", env=ci)
        assert listed.exit_code == 0, listed.stderr
        assert "CI1" in [c["symbol"] for c in listed.json()["items"]]
        me = cli("whoami", "--json", env=ci).json()
        assert me["credential"] == "api_key" and me["role"] == "analyst"
        assert me["organization_name"] == "CLI User (personal)"
        assert cli("company", "create", "--symbol", f"W{server.port}", "--name", "W",
                   env=ci).exit_code == 0  # fmt: skip
    assert not empty.exists()  # a run with ACCUNODE_TOKEN writes nothing
    keys = cli("api-key", "list", "--json").json()
    used = next(k for k in keys if k["id"] == key["id"])
    assert used["last_used_at"] is not None and "key" not in used
    assert cli("api-key", "revoke", key["id"]).exit_code == 0
    for server in stack.servers:
        ci = {"ACCUNODE_API_URL": server.url, "ACCUNODE_TOKEN": key["key"],
              "ACCUNODE_CONFIG_DIR": str(empty)}  # fmt: skip
        done = cli("company", "list", env=ci)
        assert done.exit_code == 4, done.stderr
        assert "revoked" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    # keys cannot make keys
    other = cli("api-key", "create", "--name", "x", "--json").json()
    ci = {"ACCUNODE_API_URL": stack.url, "ACCUNODE_TOKEN": other["key"],
          "ACCUNODE_CONFIG_DIR": str(empty)}  # fmt: skip
    refused = cli("api-key", "create", "--name", "y", env=ci)
    assert refused.exit_code == 1 and "API keys cannot be used here" in refused.stderr


def test_login_with_token_saves_the_key(cli, stack: Stack, config_dir: Path) -> None:
    _login(cli, stack, stack.register())
    key = cli("api-key", "create", "--name", "laptop", "--json").json()["key"]
    assert cli("logout").exit_code == 0
    saved = cli("login", "--api-url", stack.url, "--with-token", input=key + "\n")
    assert saved.exit_code == 0, saved.stderr
    assert key in (config_dir / "logins.json").read_text()
    assert cli("whoami", "--json").json()["credential"] == "api_key"
    bad = cli("login", "--api-url", stack.url, "--with-token", input=key[:-2] + "zz\n")
    assert bad.exit_code == 4 and "malformed" in bad.stderr


def test_a_viewer_key_cannot_write_and_other_tenants_ids_are_not_found(
    cli, stack: Stack, tmp_path: Path
) -> None:
    _login(cli, stack, stack.register())
    theirs = cli("company", "create", "--symbol", "THEIRS", "--name", "Theirs", "--json").json()
    remote = cli("predict", "annual", "--remote", "--json", "--company-symbol", "THEIRS",
                 "--reporting-year", "2024", "--net-income-margin", "3").json()  # fmt: skip
    assert cli("logout").exit_code == 0
    _login(cli, stack, stack.register())
    viewer = cli("api-key", "create", "--name", "read only", "--role", "viewer", "--json").json()
    env = {"ACCUNODE_API_URL": stack.url, "ACCUNODE_TOKEN": viewer["key"],
           "ACCUNODE_CONFIG_DIR": str(tmp_path / "none")}  # fmt: skip
    assert cli("company", "list", env=env).exit_code == 0
    for args in [
        ("company", "create", "--symbol", "NO", "--name", "No"),
        ("predict", "annual", "--remote", "--company-symbol", "NO", "--reporting-year", "2024"),
    ]:
        done = cli(*args, "--json", env=env)
        assert done.exit_code == 1 and done.json()["error"]["code"] == "forbidden", args
    for args in [
        ("company", "show", theirs["id"]),
        ("company", "delete", theirs["id"], "--yes"),
        ("prediction", "show", remote["id"]),
        ("prediction", "delete", remote["id"], "--yes"),
    ]:
        for credential in (env, {}):  # the viewer's key, and the owner's own login
            done = cli(*args, "--json", env=credential)
            assert done.exit_code == 1 and done.json()["error"]["code"] == "not_found", args
