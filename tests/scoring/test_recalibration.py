"""Recalibration of a model to a new population: level and spread change, ranking does not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from accunode_cli.errors import InputError, ModelError
from accunode_cli.scoring import load_model
from accunode_cli.scoring.evaluation import measure
from accunode_cli.scoring.generator import generate
from accunode_cli.scoring.recalibration import (
    MIN_DEFAULTS,
    MIN_DEFAULTS_SLOPE,
    central_tendency_shift,
    compose,
    fit_recalibration,
    recalibrate_model,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "annual_companies.csv"


@pytest.fixture(scope="module")
def shifted_population() -> pa.Table:
    """A generated annual population whose defaults follow a flatter, riskier truth.

    Outcomes are redrawn from logit(p') = 0.8 + 0.7 logit(true PD): about four times the
    shipped model's base rate and less spread, as on a real portfolio (overconfident model).
    """
    table = generate("annual", firms=2000, seed=5).to_arrow()
    truth = table.column("true_pd").to_numpy()
    logit = 0.8 + 0.7 * np.log(truth / (1 - truth))
    rng = np.random.default_rng(1)
    y = (rng.random(truth.size) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return table.set_column(table.column_names.index("default"), "default", pa.array(y))


def _halves(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    half = np.random.default_rng(2).random(table.num_rows) < 0.5
    return table.filter(pa.array(half)), table.filter(pa.array(~half))


def test_recalibration_on_half_fits_the_other_half(
    shifted_population: pa.Table, tmp_path: Path
) -> None:
    """Acceptance 1: mean PD within 10 % of observed, log loss better, AUC kept, exact sums."""
    fit_half, check_half = _halves(shifted_population)
    manifest = recalibrate_model("annual", fit_half, tmp_path / "recal", sample_name="half")
    assert manifest["recalibration"]["method"] == "logistic"
    assert 0 < manifest["recalibration"]["slope"] < 1  # the truth is flatter than the model
    shipped, recal = load_model("annual"), load_model("annual", tmp_path / "recal")
    assert recal.version != shipped.version
    assert manifest["parent"]["version"] == shipped.version
    y = check_half.column("default").to_numpy().astype(float)
    before = shipped.score_record_batch(check_half)
    after = recal.score_record_batch(check_half)
    m_before, m_after = measure(y, before.probability), measure(y, after.probability)
    assert m_before["mean_pd"] < 0.5 * m_after["observed_rate"]  # the shift is real
    assert abs(m_after["mean_pd"] / m_after["observed_rate"] - 1) < 0.10
    assert m_after["log_loss"] < m_before["log_loss"]
    assert abs(m_after["auc"] - m_before["auc"]) < 1e-9
    assert np.array_equal(np.argsort(before.log_odds, kind="stable"),
                          np.argsort(after.log_odds, kind="stable"))  # fmt: skip
    total = after.base_log_odds + after.contributions.sum(axis=1)
    assert np.max(np.abs(total - after.log_odds)) < 1e-9
    slope = manifest["recalibration"]["slope"]
    assert np.allclose(after.contributions, slope * before.contributions, rtol=0, atol=1e-9)


def test_a_recalibrated_model_scores_one_row_like_the_batch(
    shifted_population: pa.Table, tmp_path: Path
) -> None:
    recalibrate_model("annual", _halves(shifted_population)[0], tmp_path / "m")
    model = load_model("annual", tmp_path / "m")
    rng = np.random.default_rng(0)
    columns = {name: rng.normal(10, 20, 500) for name in model.ratio_names}
    columns[model.ratio_names[0]][::7] = np.nan
    columns[model.ratio_names[1]][::11] = 1e9
    batch = model.score_columns(columns)
    for i in range(0, 500, 37):
        one = model.score_one({name: float(columns[name][i]) for name in model.ratio_names})
        assert one.probability == batch.probability[i]  # bit for bit
        assert list(one.contributions.values()) == batch.contributions[i].tolist()


def test_manifest_names_parent_and_sample_and_files_are_verified(
    shifted_population: pa.Table, tmp_path: Path
) -> None:
    fit_half = _halves(shifted_population)[0]
    manifest = recalibrate_model("annual", fit_half, tmp_path / "m", sample_name="book.csv")
    written = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert written["parent"]["version"] == load_model("annual").version
    sample = written["recalibration"]["sample"]
    assert sample["name"] == "book.csv" and len(sample["sha256"]) == 64
    assert sample["rows"] == fit_half.num_rows
    assert "recalibration.json" in written["files"]
    assert written["version"] == manifest["version"]
    parent = load_model("annual", tmp_path / "m", parent=True)
    assert parent.version == load_model("annual").version
    assert parent.base_log_odds == load_model("annual").base_log_odds
    with pytest.raises(ModelError, match="not recalibrated"):
        load_model("annual", parent=True)
    # recalibrating the recalibrated model stacks a step; its parent is the first one
    recalibrate_model("annual", fit_half, tmp_path / "m2", model_dir=tmp_path / "m")
    steps = json.loads((tmp_path / "m2" / "recalibration.json").read_text())["steps"]
    assert len(steps) == 2
    assert load_model("annual", tmp_path / "m2", parent=True).version == manifest["version"]
    # a changed recalibration file is refused like any other changed model file
    (tmp_path / "m" / "recalibration.json").write_text('{"steps": []}\n')
    with pytest.raises(ModelError, match="recalibration.json"):
        load_model("annual", tmp_path / "m")


def test_central_tendency_moves_the_sample_mean_to_the_rate(tmp_path: Path) -> None:
    """Acceptance 2: 3 % +- 0.1 point on the sample file, ranking unchanged, no labels needed."""
    from accunode_cli.tabular.labelled import read_labelled_table

    table = read_labelled_table(str(SAMPLE), "annual", require_target=False)
    assert "default" not in table.column_names
    manifest = recalibrate_model("annual", table, tmp_path / "ct", central_tendency=0.03)
    assert manifest["recalibration"]["method"] == "central_tendency"
    before = load_model("annual").score_record_batch(table)
    after = load_model("annual", tmp_path / "ct").score_record_batch(table)
    usable = ~np.isnan(after.probability)
    assert abs(np.mean(after.probability[usable]) - 0.03) < 0.001
    # the sample's own mean (2.53 %) is several times the tolerance away: the shift is real
    assert abs(np.mean(before.probability[usable]) - 0.03) > 0.004
    assert np.array_equal(np.argsort(before.probability[usable], kind="stable"),
                          np.argsort(after.probability[usable], kind="stable"))  # fmt: skip


def test_small_samples_fit_the_intercept_only_or_are_refused() -> None:
    rng = np.random.default_rng(4)
    z = rng.normal(-4, 1.2, 3000)
    y = np.zeros(z.size)
    y[np.argsort(-z)[: MIN_DEFAULTS_SLOPE - 1]] = 1.0
    assert fit_recalibration(z, y)["method"] == "intercept"
    assert fit_recalibration(z, y)["slope"] == 1.0
    y[np.argsort(-z)[:MIN_DEFAULTS_SLOPE]] = 1.0
    assert fit_recalibration(z, y)["method"] == "logistic"
    y[:] = 0.0
    y[: MIN_DEFAULTS - 1] = 1.0
    with pytest.raises(InputError, match=f"at least {MIN_DEFAULTS} defaults"):
        fit_recalibration(z, y)
    backwards = np.zeros(z.size)
    backwards[np.argsort(z)[:200]] = 1.0  # the safest by the model are the ones that default
    with pytest.raises(InputError, match="no better than chance"):
        fit_recalibration(z, backwards)


def test_fits_are_maximum_likelihood_and_steps_compose() -> None:
    rng = np.random.default_rng(9)
    z = rng.normal(-3.5, 1.5, 200_000)
    y = (rng.random(z.size) < 1 / (1 + np.exp(-(0.4 + 0.6 * z)))).astype(float)
    step = fit_recalibration(z, y)
    assert abs(step["intercept"] - 0.4) < 0.1 and abs(step["slope"] - 0.6) < 0.03
    shift = central_tendency_shift(z, 0.05)
    assert abs(np.mean(1 / (1 + np.exp(-(z + shift["intercept"])))) - 0.05) < 1e-12
    a, b = compose([{"intercept": 1.0, "slope": 2.0}, {"intercept": -0.5, "slope": 0.5}])
    assert (a, b) == (0.0, 1.0)
    with pytest.raises(InputError, match="between 0 and 1"):
        central_tendency_shift(z, 3.0)


def test_numpy_auc_matches_scikit_learn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    p = np.round(rng.random(5000), 2)  # many ties
    y = (rng.random(5000) < p * 0.3).astype(float)
    assert abs(measure(y, p)["auc"] - roc_auc_score(y, p)) < 1e-12


def test_recalibration_needs_none_of_the_training_tools(tmp_path: Path) -> None:
    """`model recalibrate` runs on the plain install: none of the `train` extra is imported."""
    import subprocess
    import sys

    code = (
        "import sys; from accunode_cli.tabular.labelled import read_labelled_table;"
        "from accunode_cli.scoring.recalibration import recalibrate_model;"
        f"t = read_labelled_table({str(SAMPLE)!r}, 'annual', require_target=False);"
        f"recalibrate_model('annual', t, {str(tmp_path / 'm')!r}, central_tendency=0.02);"
        "heavy = ('sklearn', 'scipy', 'lightgbm', 'matplotlib');"
        "print(','.join(n for n in heavy if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert (tmp_path / "m" / "recalibration.json").exists()
