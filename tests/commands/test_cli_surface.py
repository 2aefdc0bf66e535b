"""The first hour with the CLI: help that reads like a normal CLI's, examples everywhere,
kinds in any case, and `serve` on a busy port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from accunode_cli.main import app

ACCUNODE = str(Path(sys.executable).parent / "accunode")
ROOT = Path(__file__).resolve().parents[2]


def _leaf_commands() -> list[list[str]]:
    """Return the path of every runnable command, e.g. ['db', 'upgrade']."""
    found: list[list[str]] = []

    def walk(command, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            found.append(path)
            return
        for name, sub in subcommands.items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def _help(runner: CliRunner, path: list[str]) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_listed() -> None:
    names = {" ".join(path) for path in _leaf_commands()}
    assert {"serve", "bulk-score", "predict annual", "db upgrade", "db current",
            "db downgrade", "model train"} <= names  # fmt: skip


@pytest.mark.parametrize("path", _leaf_commands(), ids=lambda p: " ".join(p))
def test_help_shows_an_example_and_no_python_types(runner: CliRunner, path: list[str]) -> None:
    text = _help(runner, path)
    assert "Example" in text, f"accunode {' '.join(path)} --help has no example"
    assert f"accunode {' '.join(path)}" in text.split("Example", 1)[1]
    for python_type in ("<bool>", "<str>", "<int", "<path>", "<float>"):
        assert python_type not in text, f"{python_type} in accunode {' '.join(path)} --help"
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage  # INPUT, not {INPUT}


def test_help_uses_classic_metavars(runner: CliRunner) -> None:
    text = _help(runner, ["bulk-score"])
    assert "Usage: accunode bulk-score [OPTIONS] INPUT" in text
    assert "[annual|quarterly]" in text and "PATH" in text and "INTEGER" in text
    root = _help(runner, [])
    assert "--version" in root and "--install-completion" in root


def test_optional_argument_is_bracketed_in_usage(runner: CliRunner) -> None:
    assert "Usage: accunode db upgrade [OPTIONS] [REVISION]" in _help(runner, ["db", "upgrade"])


@pytest.mark.parametrize("spelling", ["Annual", "ANNUAL", "annual"])
def test_kind_in_any_case(runner: CliRunner, sample_data: Path, tmp_path: Path, spelling) -> None:
    out = tmp_path / "scored.csv"
    scored = runner.invoke(app, ["bulk-score", str(sample_data / "annual_companies.csv"),
                                 "--kind", spelling, "-o", str(out), "--json"])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["kind"] == "annual"
    info = runner.invoke(app, ["model", "info", "--kind", spelling, "--json"])
    assert info.exit_code == 0 and json.loads(info.stdout)["kind"] == "annual"
    predicted = runner.invoke(app, ["predict", spelling, "--net-income-margin", "8", "--json"])
    assert predicted.exit_code == 0 and json.loads(predicted.stdout)["kind"] == "annual"


def test_an_unknown_kind_is_still_a_usage_error(runner: CliRunner, sample_data: Path) -> None:
    result = runner.invoke(app, ["bulk-score", str(sample_data / "annual_companies.csv"),
                                 "--kind", "monthly"])  # fmt: skip
    assert result.exit_code == 2


def test_version(runner: CliRunner) -> None:
    from accunode_cli import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"accunode {__version__}"


def test_serve_on_a_busy_port_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    env["ACCUNODE_DATA_DIR"] = str(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([ACCUNODE, "serve", "--port", str(port)], env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        as_json = subprocess.run([ACCUNODE, "--json", "serve", "--port", str(port)], env=env,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"Error: port {port} is in use; pass --port"
    assert not (tmp_path / "accunode.db").exists()  # refused before touching the database
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["code"] == "bad_usage"
