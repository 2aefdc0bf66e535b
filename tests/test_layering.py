"""The import direction of the package, checked on the source (AST), and the lean --help."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "accunode_cli"

# subpackage -> the package modules it may import (besides itself)
ALLOWED = {
    "scoring": {"errors"},
    "tabular": {"errors", "scoring"},
    "analytics": {"errors", "scoring"},
    "storage": {"errors", "config", "scoring"},
    "services": {"errors", "config", "scoring", "storage"},
    "jobs": {"errors", "config", "scoring", "storage", "services", "tabular", "metrics", "logs"},
    "server": {
        "errors",
        "config",
        "scoring",
        "storage",
        "services",
        "jobs",
        "tabular",
        "metrics",
        "analytics",
        "logs",
    },  # fmt: skip
    "client": {"errors", "config"},
}
# pydantic_settings too: loading the settings at import time costs --help ~130 ms.
HEAVY = ("lightgbm", "pandas", "pyarrow", "fastapi", "sqlalchemy", "pydantic_settings")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("accunode_cli.")}


def _first_part(module: str) -> str:
    return module.split(".")[1]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_subpackage_imports_only_what_it_may(package: str) -> None:
    """Each subpackage imports only the parts of the package below it."""
    bad = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for module in _imports(path):
            part = _first_part(module)
            if part not in ALLOWED[package] and part != package and part != "__version__":
                bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not bad, bad


def test_nothing_imports_commands() -> None:
    """Only main.py and the commands themselves import accunode_cli.commands."""
    bad = []
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "commands" or rel == Path("main.py"):
            continue
        bad += [f"{rel} imports {m}" for m in _imports(path) if _first_part(m) == "commands"]
    assert not bad, bad


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    """The AST check finds plain and from-imports (so the tests above can fail)."""
    probe = tmp_path / "probe.py"
    probe.write_text("import accunode_cli.server.app\nfrom accunode_cli.commands import predict\n")
    assert _imports(probe) >= {"accunode_cli.server.app", "accunode_cli.commands.predict"}


def test_help_imports_no_heavy_library() -> None:
    """`accunode --help` loads none of the heavy libraries (nor the settings machinery)."""
    code = (
        "import sys, json\n"
        "sys.argv = ['accunode', '--help']\n"
        "from accunode_cli.main import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert "Usage" in done.stdout
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
