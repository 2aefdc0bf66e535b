"""A plain install (no extras) runs every command but training; the build is warning-free.

The fresh virtual environment gets the built wheel plus exactly the distributions that
`accunode`'s own `[project].dependencies` pull in (resolved from this environment's metadata and
linked in, so no network is needed). Anything the CLI or the server imports beyond those
would fail here, as it would for a user after `make demo`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
TRAINING_ONLY = ("sklearn", "matplotlib", "lightgbm", "scipy", "pandas")
ANNUAL = [
    "--long-term-debt-to-total-capital", "35", "--total-debt-to-ebitda", "2.1",
    "--net-income-margin", "8.5", "--ebit-to-interest-expense", "9.2",
    "--return-on-assets", "6.1",
]  # fmt: skip


def _closure(name: str, extras: frozenset[str] = frozenset()) -> dict[str, metadata.Distribution]:
    """Return the installed distributions `name[extras]` requires, itself excluded."""
    found: dict[str, metadata.Distribution] = {}
    todo: list[tuple[str, frozenset[str]]] = [(name, extras)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        current, wanted = todo.pop()
        if (current, wanted) in seen:
            continue
        seen.add((current, wanted))
        dist = metadata.distribution(current)
        for text in dist.requires or []:
            req = Requirement(text)
            envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                continue
            key = canonicalize_name(req.name)
            found[key] = metadata.distribution(req.name)
            todo.append((req.name, frozenset(req.extras)))
    found.pop(canonicalize_name(name), None)
    return found


def _link_distribution(dist: metadata.Distribution, site: Path) -> None:
    """Symlink every file a distribution installed under site-packages into ``site``."""
    base = Path(str(dist.locate_file("")))
    assert dist.files, f"{dist.metadata['Name']} has no RECORD"
    for file in dist.files:
        if file.parts[0] == ".." or "__pycache__" in file.parts:
            continue  # console scripts and bytecode caches
        target = site / file
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(base / file)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Build the wheel offline and install it into a fresh venv with only its dependencies."""
    work = tmp_path_factory.mktemp("plain-install")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = _run([*pip, "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-v",
                  "-w", str(work / "wheel")])  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (work / "wheel").glob("accunode-*.whl")
    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    for dist in _closure("accunode").values():
        _link_distribution(dist, site)
    installed = _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index",
                      str(wheel)])  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    yield venv, built.stdout + built.stderr


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCUNODE_", "PYTHON"))}
    env.update(ACCUNODE_DATA_DIR=str(tmp_path / "data"), ACCUNODE_CONFIG_DIR=str(tmp_path / "c"))
    env.update(values)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_build_has_no_deprecation_warning_and_ships_the_licence(plain_venv) -> None:
    venv, build_log = plain_venv
    assert not re.search(r"deprecat", build_log, re.IGNORECASE), build_log[-3000:]
    dist_info = next((venv / "lib").glob("python*/site-packages/accunode-*.dist-info"))
    meta = (dist_info / "METADATA").read_text()
    assert "License-Expression: LicenseRef-Proprietary" in meta
    assert (dist_info / "licenses" / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()


@pytest.mark.slow
def test_plain_install_has_no_training_libraries(plain_venv, tmp_path: Path) -> None:
    venv, _ = plain_venv
    probe = f"import importlib.util as u; print([m for m in {TRAINING_ONLY!r} if u.find_spec(m)])"
    result = _run([str(venv / "bin" / "python"), "-c", probe], env=_env(tmp_path))
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.mark.slow
def test_plain_install_scores_files_and_companies(plain_venv, tmp_path: Path) -> None:
    venv, _ = plain_venv
    accunode = str(venv / "bin" / "accunode")
    env = _env(tmp_path)
    assert _run([accunode, "--help"], env=env).returncode == 0
    predicted = _run([accunode, "predict", "annual", *ANNUAL, "--json"], env=env)
    assert predicted.returncode == 0, predicted.stderr
    assert '"probability"' in predicted.stdout
    for source in ("annual_companies.csv", "annual_companies.parquet", "quarterly_companies.csv"):
        out = tmp_path / f"{source}.scored.csv"
        scored = _run([accunode, "bulk-score", str(SAMPLE / source), "-o", str(out)], env=env)
        assert scored.returncode == 0, scored.stderr
        assert len(out.read_text().splitlines()) == 301
    assert _run([accunode, "model", "info", "--json"], env=env).returncode == 0


@pytest.mark.slow
def test_plain_install_migrates_the_database(plain_venv, tmp_path: Path) -> None:
    venv, _ = plain_venv
    upgraded = _run([str(venv / "bin" / "accunode"), "db", "upgrade"], env=_env(tmp_path))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "-> " in upgraded.stdout


@pytest.mark.slow
def test_plain_install_serves_the_api(plain_venv, tmp_path: Path) -> None:
    venv, _ = plain_venv
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(venv / "bin" / "accunode"), "serve", "--port", str(port)],
            env=_env(tmp_path),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        status, deadline = None, time.monotonic() + 60
        while status != 200 and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status == 200, log.read_text()[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.slow
def test_training_without_the_extra_says_what_to_install(plain_venv, tmp_path: Path) -> None:
    venv, _ = plain_venv
    accunode = str(venv / "bin" / "accunode")
    data = str(SAMPLE / "annual_training.csv.gz")
    for command in (
        ["model", "train", "--kind", "annual", "--data", data, "--out", str(tmp_path / "m")],
        ["model", "evaluate", "--kind", "annual", "--data", data, "--report", str(tmp_path)],
        ["model", "generate", "--kind", "annual", "--out", str(tmp_path / "g.parquet")],
    ):
        result = _run([accunode, *command], env=_env(tmp_path))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "pip install 'accunode[train]'" in lines[0], result.stderr
        assert f"accunode {' '.join(command[:2])}" in lines[0]
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_plain_install_runs_drift_stress_and_horizons(plain_venv, tmp_path: Path) -> None:
    venv, _ = plain_venv
    accunode = str(venv / "bin" / "accunode")
    env = _env(tmp_path)
    source = str(SAMPLE / "annual_companies.csv")
    for command in (
        ["drift", source, "--json"],
        ["stress", source, "--scenario", "severe", "-o", str(tmp_path / "s.csv"), "--json"],
        ["predict", "annual", *ANNUAL, "--horizon", "5", "--json"],
        ["bulk-score", source, "--horizon", "5", "-o", str(tmp_path / "h.csv")],
    ):
        result = _run([accunode, *command], env=env)
        assert result.returncode == 0, (command, result.stderr)
    report = _run([accunode, "drift", source, "--report", str(tmp_path / "r")], env=env)
    assert report.returncode == 2, report.stderr
    lines = report.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'accunode[train]'" in lines[0], report.stderr
