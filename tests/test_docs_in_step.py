"""Golden file, README outputs and model-card figures stay in step with the shipped models.

After `make models` (which runs scripts/refresh_docs.py) nothing here fails; after a retrain
without it, each test names the stale file and the command that fixes it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = "run: python scripts/refresh_docs.py (make models runs it)"


def _load_script():
    spec = importlib.util.spec_from_file_location("refresh_docs", ROOT / "scripts/refresh_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresh = _load_script()
DOCUMENTS = refresh.documents()


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_golden_file_matches_the_shipped_models() -> None:
    assert refresh.golden_text() == refresh.GOLDEN.read_text(), (
        f"tests/scoring/golden_sample_data.json is stale; {FIX}"
    )


@pytest.mark.parametrize("path", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_quoted_model_versions_are_the_shipped_ones(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fresh = refresh.refresh_versions(text)
    stale = [
        f"line {number}: {old.strip()}"
        for number, (old, new) in enumerate(
            zip(text.split("\n"), fresh.split("\n"), strict=True), 1
        )
        if old != new
    ]
    assert not stale, f"{path.relative_to(ROOT)} quotes old model versions ({FIX}): {stale}"


def test_model_card_figures_come_from_the_manifests() -> None:
    path = ROOT / "docs" / "models.md"
    text = path.read_text(encoding="utf-8")
    found = {m[2]: m[3] for m in refresh.SECTION.finditer(text)}
    assert set(found) == set(refresh.SECTIONS), "docs/models.md lost a refresh marker"
    stale = [name for name, body in found.items() if refresh.SECTIONS[name]() != body]
    assert not stale, f"docs/models.md: stale sections {stale}; {FIX}"


def _blocks() -> list[tuple[Path, str]]:
    return [
        (path, match[3])
        for path in DOCUMENTS
        for match in refresh.BLOCK.finditer(path.read_text(encoding="utf-8"))
        if match[2] == "run"
    ]


BLOCKS = _blocks()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "block"),
    BLOCKS,
    ids=[f"{p.relative_to(ROOT)}:{refresh._commands(b)[0][:40]}" for p, b in BLOCKS],
)
def test_printed_outputs_are_what_the_commands_print(path: Path, block: str) -> None:
    fresh = refresh.run_block(block)
    assert refresh.mask(fresh) == refresh.mask(block), (
        f"{path.relative_to(ROOT)}: the output of `{refresh._commands(block)[0]}` is stale; {FIX}"
    )


def test_the_readme_has_checked_outputs() -> None:
    assert len([b for p, b in BLOCKS if p.name == "README.md"]) >= 6


def test_stale_text_is_detected_and_fixed() -> None:
    shipped = refresh.manifest("annual")["version"]
    old = "Scored 3 rows with annual-2020.01.01-deadbeef; quarterly-2020.01.01-0badc0de"
    fixed = refresh.refresh_versions(old)
    assert shipped in fixed and "deadbeef" not in fixed and "0badc0de" not in fixed
    trained = "<!-- refresh: run-slow -->\n```\n$ x\nmodel annual-2020.01.01-deadbeef\n```"
    assert refresh.refresh_versions(trained) == trained  # a model the reader trains stays
    tampered = "<!-- refresh: calibration -->\n| decile | old |\n<!-- /refresh -->"
    assert refresh.refresh_sections(tampered) == tampered.replace(
        "| decile | old |", refresh.section_calibration()
    )
    block = "$ echo 1\n2"
    assert refresh.run_block(block) == "$ echo 1\n1"
    assert re.search("<s>", refresh.mask("Scored 1 in 0.31 s (6 rows/s)"))


def test_make_models_refreshes_the_docs(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    (tmp_path / "pyproject.toml").write_text("")
    dry = subprocess.run(["make", "--no-print-directory", "-n", "models"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    # Under `make test` MAKEFLAGS would make the nested make print "Leaving directory" lines.
    lines = [line for line in dry.stdout.splitlines() if line.strip() and "make[" not in line]
    assert "scripts/refresh_docs.py" in lines[-1], lines[-3:]
