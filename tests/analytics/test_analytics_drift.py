"""Drift: PSI per ratio and for the score on the model's bins, against training or a file."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from analytics_helpers import SAMPLES, ratio_columns, read_sample

from accunode_cli.analytics import drift_of_batches, drift_of_rows, drift_status, psi
from accunode_cli.errors import ModelError
from accunode_cli.scoring import PDModel
from accunode_cli.scoring.generator import generate


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_a_file_against_itself_has_zero_psi_everywhere(
    kind: str, models: dict[str, PDModel]
) -> None:
    """PSI of a file against itself is exactly 0 for every ratio and for the score."""
    model = models[kind]
    columns = ratio_columns(model, read_sample(kind))
    report = drift_of_batches(model, [columns], reference=[columns], reference_name="itself")
    assert [r.psi for r in report.ratios] == [0.0] * len(model.ratio_names)
    assert report.score.psi == 0.0
    assert {r.status for r in report.ratios} == {"stable"}
    assert report.mean_probability["reference"] == report.mean_probability["current"]
    assert report.rows == {"reference": 300, "current": 300}


def _generated(kind: str, firms: int, seed: int) -> pa.Table:
    return generate(kind, firms=firms, seed=seed).to_arrow()


@pytest.mark.parametrize(
    ("kind", "ratio", "shift"),
    [
        ("annual", "net_income_margin", -6.0),
        ("annual", "total_debt_to_ebitda", 1.5),
        ("quarterly", "long_term_debt_to_total_capital", 15.0),
    ],
)
def test_one_shifted_ratio_is_flagged_alone(
    kind: str, ratio: str, shift: float, models: dict[str, PDModel]
) -> None:
    """Shifting one ratio by a known amount marks it shifted; every other ratio stays at 0."""
    model = models[kind]
    table = _generated(kind, 400, 5)
    reference = ratio_columns(model, table)
    current = dict(reference)
    current[ratio] = pc.add(reference[ratio], shift)
    report = drift_of_batches(model, [current], reference=[reference])
    by_name = {r.name: r for r in report.ratios}
    assert by_name[ratio].status == "shifted", by_name[ratio].psi
    assert report.shifted == [ratio]
    assert all(r.psi == 0.0 for name, r in by_name.items() if name != ratio)
    # missing and not-meaningful cells do not move with the shift
    assert by_name[ratio].missing[0] == by_name[ratio].missing[1]


def test_a_small_shift_is_watch_not_shifted(models: dict[str, PDModel]) -> None:
    """A modest move lands in the watch band, between the two thresholds."""
    model = models["annual"]
    reference = ratio_columns(model, _generated("annual", 400, 5))
    current = dict(reference, return_on_assets=pc.add(reference["return_on_assets"], -2.5))
    report = drift_of_batches(model, [current], reference=[reference])
    value = {r.name: r for r in report.ratios}["return_on_assets"]
    assert value.status == "watch", value.psi


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_fresh_data_from_the_training_generator_is_stable_against_training(
    kind: str, models: dict[str, PDModel]
) -> None:
    """The stored training distribution is right: new data from the same generator is stable."""
    model = models[kind]
    table = _generated(kind, 600 if kind == "annual" else 300, 99)
    report = drift_of_batches(model, [ratio_columns(model, table)])
    assert report.reference.startswith("training data of")
    assert report.rows["reference"] == model.manifest["training_data"]["rows"]
    assert max(r.psi for r in report.ratios) < 0.02, [(r.name, r.psi) for r in report.ratios]
    assert report.score.psi < 0.02
    ref, cur = report.mean_probability["reference"], report.mean_probability["current"]
    assert ref is not None and cur is not None and abs(cur / ref - 1) < 0.15


def test_batches_and_rows_and_chunks_agree(models: dict[str, PDModel]) -> None:
    """The job route's row function gives the same report as one batch or many batches."""
    model = models["annual"]
    table = read_sample("annual")
    whole = drift_of_batches(model, [ratio_columns(model, table)])
    chunks = drift_of_batches(
        model, [ratio_columns(model, b) for b in table.to_batches(max_chunksize=37)]
    )
    rows = drift_of_rows(model, table.to_pylist(), batch_size=50)
    assert whole.to_dict() == chunks.to_dict() == rows.to_dict()


def test_rows_with_a_bad_cell_are_left_out_and_counted(models: dict[str, PDModel]) -> None:
    """A cell that is no number leaves its row out of every share and is counted."""
    model = models["annual"]
    columns = ratio_columns(model, read_sample("annual"))
    bad = dict(columns)
    bad["net_income_margin"] = pa.array(["oops"] + columns["net_income_margin"].to_pylist()[1:])
    report = drift_of_batches(model, [bad])
    assert report.rejected_rows == 1
    assert report.rows["current"] == 299


def test_psi_and_status_thresholds() -> None:
    """PSI is symmetric-free but zero only for equal shares; the bands are < 0.10, <= 0.25."""
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    assert psi(np.array([0.9, 0.1]), np.array([0.5, 0.5])) > 0.25
    assert psi(np.array([1.0, 0.0]), np.array([0.99, 0.01])) > 0  # an empty bin still counts
    assert drift_status(0.0999) == "stable"
    assert drift_status(0.10) == "watch"
    assert drift_status(0.25) == "watch"
    assert drift_status(0.2501) == "shifted"


def test_a_model_without_a_training_distribution_says_so(models: dict[str, PDModel]) -> None:
    """A model trained before drift_reference.json existed asks for a retrain."""
    from dataclasses import replace

    old = replace(models["annual"], reference=None)
    with pytest.raises(ModelError, match="no training distribution"):
        drift_of_batches(old, [ratio_columns(old, read_sample("annual"))])
