"""Stress: shocks in each ratio's unit, rescoring, the portfolio before and after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from analytics_helpers import SAMPLES, ratio_columns, read_sample

from accunode_cli.analytics import (
    SHIPPED_SCENARIOS,
    Scenario,
    Shock,
    StressSummary,
    load_scenario,
    parse_scenario,
    scenario_from_shocks,
    stress_columns,
    stress_table,
    zero_scenario,
)
from accunode_cli.errors import InputError, UnreadableFileError
from accunode_cli.scoring import PDModel


def _summary(model: PDModel, table: pa.Table, scenario: Scenario) -> StressSummary:
    baseline, stressed = stress_columns(
        model, ratio_columns(model, table), scenario, sector=table.column("sector")
    )
    summary = StressSummary(model.kind, model.version, scenario)
    summary.add(baseline, stressed)
    return summary


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_a_zero_shock_scenario_changes_nothing(kind: str, models: dict[str, PDModel]) -> None:
    """No shock (and explicit zero shocks): every PD, rating and level stays; no migration."""
    model = models[kind]
    zeros = {spec.name: (0.0 if spec.unit == "percent" else 1.0) for spec in model.ratios}
    for scenario in (zero_scenario(), scenario_from_shocks(zeros)):
        columns = ratio_columns(model, read_sample(kind))
        baseline, stressed = stress_columns(model, columns, scenario)
        assert np.array_equal(baseline.probability, stressed.probability, equal_nan=True)
        assert np.array_equal(baseline.rating_codes, stressed.rating_codes)
        summary = _summary(model, read_sample(kind), scenario).to_dict()
        counts = np.asarray(summary["migration"]["counts"])
        assert counts.sum() == np.trace(counts) == 300
        assert summary["rows_pd_rose"] == summary["rows_pd_fell"] == 0


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("name", SHIPPED_SCENARIOS)
def test_each_shipped_scenario_raises_the_mean_pd_and_lowers_none(
    kind: str, name: str, models: dict[str, PDModel]
) -> None:
    """Every shipped scenario raises the mean PD and expected defaults; no row's PD falls."""
    summary = _summary(models[kind], read_sample(kind), load_scenario(name)).to_dict()
    mean, expected = summary["mean_probability"], summary["expected_defaults"]
    assert mean["stressed"] > mean["baseline"] * 1.1
    assert expected["stressed"] > expected["baseline"]
    assert summary["rows_pd_fell"] == 0
    assert summary["rows_pd_rose"] > 250


def test_scenarios_get_harsher_in_order(models: dict[str, PDModel]) -> None:
    """mild < recession < severe in the sample portfolio's mean PD."""
    means = [
        _summary(models["annual"], read_sample("annual"), load_scenario(name)).to_dict()[
            "mean_probability"
        ]["stressed"]
        for name in SHIPPED_SCENARIOS
    ]
    assert means == sorted(means)


def _adverse(model: PDModel, rng: np.random.Generator) -> Scenario:
    shocks = {}
    for spec in model.ratios:
        size = rng.uniform(0.0, 10.0)
        if spec.unit == "percent":
            shocks[spec.name] = {"points": size * spec.direction}
        else:
            factor = 1.0 + rng.uniform(0.0, 1.5)
            shocks[spec.name] = {"factor": factor if spec.direction == 1 else 1.0 / factor}
    return scenario_from_shocks(shocks, name="adverse")


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        ("annual", "annual_companies.csv"),
        ("annual", "messy_annual.csv"),
        ("quarterly", "quarterly_companies.csv"),
    ],
)
def test_no_pd_falls_when_every_shock_is_adverse(
    kind: str, sample: str, models: dict[str, PDModel]
) -> None:
    """Random scenarios whose every shock is adverse never lower a row's PD (monotone models)."""
    model = models[kind]
    columns = ratio_columns(model, read_sample(kind, sample))
    rng = np.random.default_rng(4)
    for _ in range(25):
        baseline, stressed = stress_columns(model, columns, _adverse(model, rng))
        scored = ~np.isnan(baseline.probability)
        assert scored.sum() > 0
        assert np.all(stressed.probability[scored] >= baseline.probability[scored])


def test_multiples_move_away_from_zero_and_percentages_stop_at_their_floor(
    models: dict[str, PDModel],
) -> None:
    """A factor below 1 takes -2x coverage to -2/0.7, not towards 0; LTD/capital stays >= 0."""
    from accunode_cli.analytics import shock_columns

    model = models["annual"]
    columns = {name: [None, None, None] for name in model.ratio_names}
    columns["ebit_to_interest_expense"] = [5.0, -2.0, None]
    columns["long_term_debt_to_total_capital"] = [10.0, 2.0, "NM"]
    scenario = scenario_from_shocks(
        {"ebit_to_interest_expense": 0.7, "long_term_debt_to_total_capital": -5.0}
    )
    cleaned = model.clean_columns(columns)
    moved = shock_columns(model, cleaned, scenario)
    coverage = moved[model.ratio_names.index("ebit_to_interest_expense")]
    assert coverage.values[0] == pytest.approx(3.5)
    assert coverage.values[1] == pytest.approx(-2.0 / 0.7)
    assert np.isnan(coverage.values[2]) and coverage.status[2] == 1  # missing stays missing
    leverage = moved[model.ratio_names.index("long_term_debt_to_total_capital")]
    assert leverage.values[:2].tolist() == [5.0, 0.0]
    assert leverage.status.tolist() == [0, 0, 2]


def test_sector_shocks_apply_to_their_sector_only(models: dict[str, PDModel]) -> None:
    """[sectors.energy] overrides the base shocks for rows whose sector folds to energy."""
    model = models["annual"]
    scenario = parse_scenario(
        "[shocks]\nnet_income_margin = -1\n[sectors.Energy]\nnet_income_margin = { points = -20 }",
        name="t",
        source="t.toml",
    )
    columns = {name: [5.0] * 3 for name in model.ratio_names}
    sector = pa.array([" ENERGY ", "technology", None])
    baseline, stressed = stress_columns(model, columns, scenario, sector=sector)
    from accunode_cli.analytics import shock_columns

    moved = shock_columns(model, model.clean_columns(columns), scenario, sector=sector)
    margin = moved[model.ratio_names.index("net_income_margin")].values
    assert margin.tolist() == [-15.0, 4.0, 4.0]
    assert stressed.probability[0] > stressed.probability[1] == stressed.probability[2]


def test_stress_table_has_both_sides_per_row(models: dict[str, PDModel]) -> None:
    """The output columns: baseline and stressed probability, risk level and rating, error."""
    model = models["annual"]
    columns = ratio_columns(model, read_sample("annual"))
    table = stress_table(*stress_columns(model, columns, load_scenario("severe")))
    assert table.column_names == [
        "baseline_probability", "baseline_risk_level", "baseline_implied_rating",
        "stressed_probability", "stressed_risk_level", "stressed_implied_rating", "error",
    ]  # fmt: skip
    assert table.num_rows == 300


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[shocks]\nnet_margin = -3", "unknown ratio 'net_margin'"),
        ("[shocks]\nnet_income_margin = { factor = 0.9 }", "percent ratio: give { points"),
        ("[shocks]\ntotal_debt_to_ebitda = { points = 1 }", "multiple ratio: give { factor"),
        ("[shocks]\ntotal_debt_to_ebitda = 0", "must be above 0"),
        ("[shocks]\ntotal_debt_to_ebitda = -1.2", "must be above 0"),
        ("[shocks]\nnet_income_margin = 'minus three'", "must be a number"),
        ("[shocks]\nnet_income_margin = true", "must be a number"),
        ("[shocks]\nnet_income_margin = -3\n[shocks", "is not valid TOML"),
        ("description = 'x'", "has no [shocks] table"),
        ("shocks = 3", "[shocks] must be a table"),
        ("colour = 'red'\n[shocks]\nnet_income_margin = -1", "unknown key(s) colour"),
        ("[shocks]\nnet_income_margin = -5000", "at most"),
        ("sectors = 1\n[shocks]\nnet_income_margin = -1", "[sectors] must hold one table"),
    ],
)
def test_a_bad_custom_scenario_is_refused_with_a_clear_reason(text: str, message: str) -> None:
    """Each mistake in a scenario file gets a one-line error naming the file and the fix."""
    with pytest.raises(InputError) as caught:
        parse_scenario(text, name="custom", source="custom.toml")
    assert message in caught.value.message
    assert caught.value.message.startswith("scenario custom.toml:")
    assert "\n" not in caught.value.message


def test_scenario_names_and_files(tmp_path: Path) -> None:
    """Shipped names load; a file loads by path; an unknown name or missing file is refused."""
    for name in SHIPPED_SCENARIOS:
        scenario = load_scenario(name)
        assert scenario.name == name and scenario.description and scenario.shocks
        assert all(not shock.is_zero for shock in scenario.shocks.values())
    path = tmp_path / "mine.toml"
    path.write_text("[shocks]\nreturn_on_assets = -2\n", encoding="utf-8")
    assert load_scenario(str(path)).shocks == {"return_on_assets": Shock(points=-2.0)}
    with pytest.raises(InputError, match="unknown scenario 'doom'"):
        load_scenario("doom")
    with pytest.raises(UnreadableFileError, match="no such scenario file"):
        load_scenario(str(tmp_path / "absent.toml"))
