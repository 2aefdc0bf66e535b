"""The documented bulk-upload curl example works against a real `accunode serve` (embedded)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.csv as pcsv
import pytest
from api_helpers import Server, clean_env

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- jobs-curl:start -->\s*```bash\n(.*?)```\s*<!-- jobs-curl:end -->", re.S)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for name in ("docs/api.md", "README.md"):
        found += [(name, block) for block in BLOCK.findall((ROOT / name).read_text())]
    return found


def test_the_docs_and_the_readme_show_the_upload_example() -> None:
    assert {name for name, _ in _blocks()} == {"docs/api.md", "README.md"}


@pytest.mark.parametrize("name,script", _blocks(), ids=lambda value: str(value)[:12])
def test_the_upload_example_runs(name: str, script: str, tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    server = Server(clean_env(ACCUNODE_DATA_DIR=str(tmp_path / "data")), tmp_path / "s.log")
    try:
        server.wait_ready()
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("succeeded")
    scored = pcsv.read_csv(tmp_path / "annual_scored.csv")
    assert scored.num_rows == 300
    assert set(scored.column("status").to_pylist()) <= {"stored", "rejected"}
    errors = (tmp_path / "annual_errors.csv").read_text().splitlines()
    assert errors[0] == "row,column,value,reason"
