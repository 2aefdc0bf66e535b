"""The shipped models: range, monotonicity, explanations and the two entry points."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from accunode_cli.scoring import MISSING, NOT_MEANINGFUL, load_model, ratio_specs
from accunode_cli.scoring.trees import forest_step_functions, parse_lightgbm_text

ANNUAL_STRONG = dict(
    long_term_debt_to_total_capital=10,
    total_debt_to_ebitda=0.5,
    net_income_margin=20,
    ebit_to_interest_expense=30,
    return_on_assets=15,
)
ANNUAL_DISTRESSED = dict(
    long_term_debt_to_total_capital=85,
    total_debt_to_ebitda=10,
    net_income_margin=-30,
    ebit_to_interest_expense=0.3,
    return_on_assets=-15,
)
QUARTERLY_STRONG = dict(
    total_debt_to_ebitda=0.5,
    sga_margin=30,
    long_term_debt_to_total_capital=10,
    return_on_capital=30,
)
QUARTERLY_DISTRESSED = dict(total_debt_to_ebitda=10, sga_margin=5,
                            long_term_debt_to_total_capital=85, return_on_capital=-10)  # fmt: skip

# Grids wide enough to cover real tails (negative equity, deep losses, huge coverage).
GRIDS = {
    "long_term_debt_to_total_capital": np.r_[np.linspace(0, 100, 101), np.linspace(100, 600, 51)],
    "total_debt_to_ebitda": np.r_[np.linspace(0, 20, 201), [30, 50, 100, 1000]],
    "net_income_margin": np.linspace(-300, 100, 401),
    "ebit_to_interest_expense": np.r_[np.linspace(-20, 50, 281), [100, 219, 500, 5000]],
    "return_on_assets": np.linspace(-80, 60, 281),
    "sga_margin": np.linspace(0, 120, 241),
    "return_on_capital": np.linspace(-100, 80, 361),
}


@pytest.fixture(scope="module", params=["annual", "quarterly"])
def model(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return load_model(request.param)


def test_strong_and_distressed_companies_reach_both_ends() -> None:
    annual, quarterly = load_model("annual"), load_model("quarterly")
    cases = ((annual, ANNUAL_STRONG, ANNUAL_DISTRESSED),
             (quarterly, QUARTERLY_STRONG, QUARTERLY_DISTRESSED))  # fmt: skip
    for model, strong, distressed in cases:
        good, bad = model.score_one(strong), model.score_one(distressed)
        assert good.risk_level == "LOW" and good.probability < 0.003
        assert bad.risk_level == "CRITICAL" and bad.probability > 0.20


def test_each_ratio_is_monotone_in_its_risk_direction(model) -> None:  # type: ignore[no-untyped-def]
    reference = {f.name: f.reference for f in _named_functions(model)}
    for spec in ratio_specs(model.kind):
        grid = GRIDS[spec.name]
        if spec.min_meaningful is not None:
            grid = grid[grid >= spec.min_meaningful]
        columns = {name: np.full(grid.size, value) for name, value in reference.items()}
        columns[spec.name] = grid
        pd = model.score_columns(columns).probability
        risky_order = pd if spec.direction == 1 else pd[::-1]
        assert np.all(np.diff(risky_order) >= 0), spec.name


def _named_functions(model):  # type: ignore[no-untyped-def]
    class Named:
        def __init__(self, name: str, reference: float) -> None:
            self.name, self.reference = name, reference

    return [Named(n, f.reference) for n, f in zip(model.ratio_names, model.functions, strict=True)]


def test_contributions_add_up_and_rows_match_the_batch(model) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    n = 2000
    columns = {name: rng.normal(10, 20, n) for name in model.ratio_names}
    columns[model.ratio_names[0]][::7] = np.nan
    columns[model.ratio_names[1]][::11] = 1e9
    batch = model.score_columns(columns)
    total = batch.base_log_odds + batch.contributions.sum(axis=1)
    assert np.max(np.abs(total - batch.log_odds)) < 1e-9
    for i in range(0, n, 97):
        one = model.score_one({name: float(columns[name][i]) for name in model.ratio_names})
        assert one.probability == batch.probability[i]  # bit for bit
        assert one.log_odds == batch.log_odds[i]
        assert list(one.contributions.values()) == batch.contributions[i].tolist()


def test_a_row_without_any_ratio_value_is_not_scored(model) -> None:  # type: ignore[no-untyped-def]
    """A "Total" footer or an empty request is no company-year: no PD, reason no ratio values."""
    score = model.score_one({})
    assert score.probability is None and score.risk_level is None
    assert score.error == "no ratio values"
    assert score.flags == {name: "missing" for name in model.ratio_names}
    one = model.score_one({model.ratio_names[0]: "NM"})  # one value (even NM) is enough
    assert one.error is None and one.probability is not None
    batch = model.score_columns({model.ratio_names[0]: ["", "35", None]})
    assert batch.row_error.tolist() == ["no ratio values", None, "no ratio values"]
    assert batch.risk_codes.tolist()[0] == -1 and batch.to_arrow().column(
        "probability"
    ).to_pylist()[::2] == [None, None]


def test_out_of_range_values_are_flagged_and_scored(model) -> None:  # type: ignore[no-untyped-def]
    name = "long_term_debt_to_total_capital"
    if name not in model.ratio_names:
        return
    score = model.score_one({name: "1,234.5"})
    assert score.flags[name] == "out_of_range" and score.probability is not None
    flags = model.score_columns({name: [1234.5, 35.0]}).to_arrow().column("flags").to_pylist()
    assert f"{name}=out_of_range" in flags[0] and f"{name}=" not in flags[1]


def test_every_bad_cell_of_a_row_is_named(model) -> None:  # type: ignore[no-untyped-def]
    names = model.ratio_names
    batch = model.score_columns({names[0]: ["abc"], names[1]: ["1..2"], names[2]: ["5"]})
    assert batch.row_error[0] == (
        f"{names[0]}: 'abc' is not a number; {names[1]}: '1..2' is not a number"
    )


def test_text_cells_and_an_unusable_cell(model) -> None:  # type: ignore[no-untyped-def]
    names = model.ratio_names
    batch = model.score_columns({names[0]: ["35%", "NM", "abc"], names[1]: ["(2.0)", "", "1"]})
    assert batch.status[0, 0] == 0 and batch.status[1, 0] == NOT_MEANINGFUL
    assert batch.status[1, 1] == MISSING
    assert np.isnan(batch.probability[2]) and not np.isnan(batch.probability[:2]).any()
    assert batch.row_error[2] == f"{names[0]}: 'abc' is not a number"
    table = batch.to_arrow(explain=True)
    assert table.column("probability").null_count == 1
    assert table.column("risk_level").to_pylist()[2] is None
    assert table.column("error").to_pylist()[:2] == [None, None]
    assert f"{names[0]}=not_meaningful" in table.column("flags").to_pylist()[1]
    assert f"contribution_{names[0]}" in table.column_names


def test_negative_debt_to_ebitda_is_not_meaningful_and_risky() -> None:
    model = load_model("annual")
    negative = model.score_one({**ANNUAL_STRONG, "total_debt_to_ebitda": -3.0})
    assert negative.flags == {"total_debt_to_ebitda": "not_meaningful"}
    assert negative.probability > model.score_one(ANNUAL_STRONG).probability


def test_record_batches_score_like_columns(model) -> None:  # type: ignore[no-untyped-def]
    values = {name: [1.0, 50.0, None] for name in model.ratio_names}
    batch = pa.RecordBatch.from_pydict({**values, "company": ["a", "b", "c"]})
    assert np.array_equal(
        model.score_record_batch(batch).log_odds,
        model.score_columns(values).log_odds,
        equal_nan=True,  # the third row has no ratio value: no score either way
    )


def test_compiled_forest_matches_lightgbm(model) -> None:  # type: ignore[no-untyped-def]
    import lightgbm as lgb

    from accunode_cli.scoring.artifacts import shipped_model_dir

    text = (shipped_model_dir(model.kind) / "lightgbm.txt").read_text()
    booster = lgb.Booster(model_str=text)
    rng = np.random.default_rng(1)
    x = rng.normal(5, 30, (5000, len(model.ratio_names)))
    x[rng.random(x.shape) < 0.1] = np.nan
    names, trees = parse_lightgbm_text(text)
    constant, steps = forest_step_functions(trees, len(names))
    mine = constant + sum(steps[j](x[:, j]) for j in range(len(names)))
    assert np.max(np.abs(mine - booster.predict(x, raw_score=True))) < 1e-9
