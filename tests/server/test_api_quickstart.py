"""The documented curl quick start works against a real `accunode serve` with no configuration."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from api_helpers import Server, clean_env

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- quickstart:start -->\s*```bash\n(.*?)```\s*<!-- quickstart:end -->", re.S)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for name in ("docs/api.md", "README.md"):
        path = ROOT / name
        if path.exists():
            found += [(name, block) for block in BLOCK.findall(path.read_text())]
    return found


def test_the_docs_show_a_quickstart() -> None:
    assert any(name == "docs/api.md" for name, _ in _blocks())


@pytest.mark.parametrize("name,script", _blocks(), ids=lambda value: str(value)[:12])
def test_quickstart_commands_run(name: str, script: str, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    server = Server(clean_env(ACCUNODE_DATA_DIR=str(tmp_path / "data")), tmp_path / "s.log")
    try:
        server.wait_ready()
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    documents, text, decoder = [], result.stdout.strip(), json.JSONDecoder()
    while text:  # curl prints the JSON answers back to back
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].strip()
    registered, prediction = documents
    assert registered["email"] == "ann@example.com"
    assert 0 < prediction["probability"] < 1
    assert prediction["model_version"].startswith("annual-")
    assert prediction["risk_level"] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
