"""The bulk path's output columns equal the scoring core's own ``to_arrow``, type and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accunode_cli.scoring import load_model, ratio_names
from accunode_cli.tabular import BulkRequest, score_file
from accunode_cli.tabular.outputs import output_columns, ratio_arrays


def _raw(kind: str, n: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    raw: dict[str, object] = {}
    tokens = np.array(["", "NM", "abc", "n/a", "1e9", "(3.5)", "12.5%"], dtype=object)
    for j, name in enumerate(ratio_names(kind)):
        values = rng.normal(5, 20, n).round(2).astype(str).astype(object)
        pick = rng.random(n) < 0.15
        values[pick] = rng.choice(tokens, pick.sum())
        raw[name] = pa.array(values.tolist(), pa.string()) if j % 2 else values.tolist()
    return raw


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
@pytest.mark.parametrize("explain", [False, True])
def test_output_columns_equal_to_arrow(kind: str, explain: bool) -> None:
    """Same names, types and values as ScoredBatch.to_arrow on messy input."""
    model = load_model(kind)
    scored = model.score_columns(_raw(kind, 3_000, seed=3), explain=explain)
    names, arrays = output_columns(scored, explain=explain)
    reference = scored.to_arrow(explain=explain)
    assert names == reference.schema.names
    ours = pa.table(arrays, names=names)
    assert ours.schema == reference.schema
    assert ours.equals(reference)
    assert ours.column("error").null_count < len(ours)  # the messy input did reject rows


def test_ratio_arrays_score_like_arrow_columns() -> None:
    """Numeric columns handed over as numpy (null as NaN) give the very same scores."""
    model = load_model("annual")
    rng = np.random.default_rng(1)
    columns = {}
    for name in ratio_names("annual"):
        values = rng.normal(3, 10, 500)
        mask = rng.random(500) < 0.2
        columns[name] = pa.array(values, mask=mask)
    columns["return_on_assets"] = pa.array(rng.integers(-5, 20, 500), pa.int64())
    batch = pa.record_batch(list(columns.values()), names=list(columns))
    via_numpy = model.score_columns(ratio_arrays(batch, {n: n for n in columns}))
    via_arrow = model.score_columns(columns)
    assert np.array_equal(via_numpy.probability, via_arrow.probability, equal_nan=True)
    assert np.array_equal(via_numpy.status, via_arrow.status)


def test_dictionary_columns_hold_the_same_values() -> None:
    """The dictionary-encoded label columns cast back to exactly to_arrow's strings."""
    model = load_model("annual")
    scored = model.score_columns(_raw("annual", 2_000, seed=4))
    names, arrays = output_columns(scored, explain=False, dictionary=True)
    assert pa.types.is_dictionary(arrays[names.index("flags")].type)
    plain = pa.table(
        [a.cast(pa.string()) if pa.types.is_dictionary(a.type) else a for a in arrays], names=names
    )
    assert plain.equals(scored.to_arrow())


def test_parquet_output_reads_back_as_plain_strings(tmp_path: Path, sample_data: Path) -> None:
    """Parquet output has string label columns for any reader, not dictionary types."""
    target = tmp_path / "out.parquet"
    score_file(BulkRequest(input=str(sample_data / "annual_companies.csv"), output=str(target)))
    schema = pq.read_schema(target)
    for name in ("risk_level", "implied_rating", "model_version", "flags", "error"):
        assert schema.field(name).type == pa.string()
