"""`python sample_data/generate.py` is reproducible: regenerating changes no committed byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
GENERATED = [
    "annual_companies.csv",
    "quarterly_companies.csv",
    "annual_training.csv.gz",
    "quarterly_training.csv.gz",
]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, str(SAMPLE / "generate.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    return out


@pytest.mark.parametrize("name", GENERATED)
def test_regenerating_gives_the_committed_bytes(regenerated: Path, name: str) -> None:
    assert (regenerated / name).read_bytes() == (SAMPLE / name).read_bytes(), (
        f"sample_data/{name} is stale or not reproducible: run python sample_data/generate.py"
    )


def test_gzip_files_carry_no_time_stamp_or_name() -> None:
    for name in GENERATED:
        if name.endswith(".gz"):
            header = (SAMPLE / name).read_bytes()[:10]
            assert header[4:8] == b"\0\0\0\0", f"{name} has a modification time"
            assert header[3] & 0x08 == 0, f"{name} stores a file name"


def test_the_parquet_copy_matches(regenerated: Path) -> None:
    fresh = pq.read_table(regenerated / "annual_companies.parquet")
    assert fresh.equals(pq.read_table(SAMPLE / "annual_companies.parquet"))
