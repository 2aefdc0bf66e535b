"""The Makefile and bench/run.sh: demo installs the plain package, clean keeps committed files,
benchmarks write outside bench/results/ unless asked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_BENCH = """\
import json, pathlib
here = pathlib.Path(__file__).resolve().parent
(here / "results").mkdir(exist_ok=True)
(here / "results" / "fake.json").write_text(json.dumps({"ran_in": str(here)}))
"""


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_demo_installs_the_package_without_extras(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    dry = _make(tmp_path, "-n", "demo")
    assert dry.returncode == 0, dry.stderr
    installs = [line.split(" > ")[0] for line in dry.stdout.splitlines() if " install " in line]
    assert any(line.endswith(" -e .") for line in installs), installs  # the plain package
    assert not any("[" in line for line in installs), installs  # and no extras
    assert "accunode bulk-score" in dry.stdout


def test_clean_keeps_committed_benchmark_results(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    results = tmp_path / "bench" / "results"
    (results / "api-data").mkdir(parents=True)
    (results / "api.json").write_text("{}")
    (results / "api-data" / "accunode.db").write_text("")
    (tmp_path / "bench" / "data").mkdir()
    (tmp_path / "out").mkdir()
    assert _make(tmp_path, "clean").returncode == 0
    assert (results / "api.json").exists()
    assert not (results / "api-data").exists()
    assert not (tmp_path / "out").exists() and not (tmp_path / "bench" / "data").exists()


def _fake_repo(tmp_path: Path) -> Path:
    (tmp_path / "bench").mkdir()
    shutil.copy(ROOT / "bench" / "run.sh", tmp_path / "bench" / "run.sh")
    (tmp_path / "bench" / "bench_fake.py").write_text(FAKE_BENCH)
    return tmp_path


def test_bench_writes_to_out_unless_asked(tmp_path: Path) -> None:
    repo = _fake_repo(tmp_path)
    run = subprocess.run(["bash", "bench/run.sh"], cwd=repo, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (repo / "out" / "bench" / "results" / "fake.json").exists()
    assert not (repo / "bench" / "results").exists()

    recorded = subprocess.run(["bash", "bench/run.sh", "bench"], cwd=repo, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    assert (repo / "bench" / "results" / "fake.json").exists()
    assert not (repo / "bench" / "bench").exists()


def test_make_bench_passes_its_folder_to_run_sh(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    assert "bench/run.sh out/bench" in _make(tmp_path, "-n", "bench").stdout
    assert "bench/run.sh bench" in _make(tmp_path, "-n", "bench", "BENCH_DIR=bench").stdout
