"""Golden test: the shipped models give sample_data exactly these probabilities.

A change that moves any of them (a retrained model, a cleaning rule, the engine) fails here and
must update tests/scoring/golden_sample_data.json on purpose, saying why in the commit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from accunode_cli.scoring import load_model

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((Path(__file__).with_name("golden_sample_data.json")).read_text())


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_sample_data_scores_are_pinned(kind: str) -> None:
    model = load_model(kind)
    expected = GOLDEN[kind]
    assert model.version == expected["model_version"], (
        "retrained: run python scripts/refresh_docs.py (make models runs it)"
    )
    text = pcsv.ConvertOptions(column_types={name: pa.string() for name in model.ratio_names})
    table = pcsv.read_csv(ROOT / "sample_data" / f"{kind}_companies.csv", convert_options=text)
    assert table.column("company_symbol").to_pylist() == expected["company_symbol"]
    probabilities = model.score_record_batch(table).probability.tolist()
    assert len(probabilities) == len(expected["probability"]) == 300
    for got, want in zip(probabilities, expected["probability"], strict=True):
        if want is None:
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=0)
