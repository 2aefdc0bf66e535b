"""The image, built and run by a container engine (podman or docker) when one works here.

The build needs the base image (ACCUNODE_TEST_PYTHON_IMAGE, default python:3.11-slim-bookworm)
in the engine's store or pullable, and PyPI. Without a working engine or base image these tests
skip, under CI too: the image is checked by the release pipeline that has an engine; hadolint
and the other deploy tests still run everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = os.environ.get("ACCUNODE_TEST_PYTHON_IMAGE", "python:3.11-slim-bookworm")
TAG = "localhost/accunode:test"
VOLUME = f"accunode-test-data-{uuid.uuid4().hex[:8]}"


def _run(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=check)


def _engine() -> str:
    tried = []
    for name in ("podman", "docker"):
        if shutil.which(name) is None:
            tried.append(f"{name}: not installed")
            continue
        try:
            done = _run(name, "info", timeout=20, check=False)
        except subprocess.TimeoutExpired:
            tried.append(f"{name}: info timed out")
            continue
        if done.returncode == 0:
            return name
        tried.append(f"{name}: {(done.stderr.strip().splitlines() or ['no daemon'])[-1]}")
    pytest.skip("no working container engine: " + "; ".join(tried))


@pytest.fixture(scope="module")
def image() -> Iterator[tuple[str, str]]:
    engine = _engine()
    present = (
        _run(engine, "image", "exists", BASE, check=False).returncode == 0
        if (engine == "podman")
        else _run(engine, "image", "inspect", BASE, check=False).returncode == 0
    )
    if not present and _run(engine, "pull", BASE, timeout=300, check=False).returncode != 0:
        pytest.skip(f"{engine} works but the base image {BASE} cannot be pulled (no registry)")
    build = _run(
        engine,
        "build",
        "--network=host",
        "--build-arg",
        f"PYTHON_IMAGE={BASE}",
        "-t",
        TAG,
        str(ROOT),
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    yield engine, TAG
    _run(engine, "volume", "rm", "--force", VOLUME, check=False)


def _read_only_run(engine: str, *args: str, name: str | None = None) -> list[str]:
    """The flags of a hardened run: read-only root, a tmpfs for /tmp, a volume for /data."""
    return [
        engine,
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-v",
        f"{VOLUME}:/data",
        *(["--name", name] if name else []),
        *args,
    ]


def test_the_image_is_small_and_runs_as_a_numeric_user(image: tuple[str, str]) -> None:
    engine, tag = image
    details = json.loads(_run(engine, "image", "inspect", tag).stdout)[0]
    assert details["Config"]["User"] == "10001:10001"
    assert details["Config"]["Entrypoint"] == ["accunode"]
    size_mb = details["Size"] / 1e6
    print(f"image size: {size_mb:.0f} MB")
    assert size_mb < 400


def test_help_runs_on_a_read_only_root(image: tuple[str, str]) -> None:
    engine, tag = image
    done = _run(*_read_only_run(engine, tag, "--help"), check=False)
    assert done.returncode == 0, done.stderr
    assert "bulk-score" in done.stdout and "serve" in done.stdout


def test_bulk_score_of_the_sample_file(image: tuple[str, str], tmp_path: Path) -> None:
    engine, tag = image
    shutil.copy(ROOT / "sample_data" / "annual_companies.csv", tmp_path / "in.csv")
    tmp_path.chmod(0o777)
    done = _run(
        *_read_only_run(
            engine,
            "-v",
            f"{tmp_path}:/work:z",
            tag,
            "bulk-score",
            "/work/in.csv",
            "-o",
            "/work/out.csv",
            "--json",
        ),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["scored"] > 0 and (tmp_path / "out.csv").stat().st_size > 0


def test_serve_answers_health_on_a_read_only_root(image: tuple[str, str]) -> None:
    import httpx

    engine, tag = image
    name = f"accunode-test-{uuid.uuid4().hex[:8]}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The image's own command: serve on 0.0.0.0:8000 with the embedded SQLite file in /data.
    process = subprocess.Popen(
        _read_only_run(engine, "-p", f"127.0.0.1:{port}:8000", tag, name=name),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, answer = time.monotonic() + 90, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        if answer is None:
            _run(engine, "kill", name, check=False)
            output = process.communicate(timeout=30)[0]
            raise AssertionError(f"no answer from the container: {output[-3000:]}")
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok"
        _run(engine, "stop", "--time", "30", name, timeout=60, check=False)  # SIGTERM first
        assert process.wait(timeout=60) == 0, "SIGTERM is a clean exit"
    finally:
        if process.poll() is None:
            _run(engine, "kill", name, check=False)
            process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
