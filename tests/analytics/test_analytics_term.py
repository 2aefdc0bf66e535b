"""Term structure: cumulative PDs for 1..5 years anchored on S&P's cumulative default rates."""

from __future__ import annotations

import numpy as np
import pytest

from accunode_cli.analytics import cumulative_pds
from accunode_cli.analytics.term import FIVE_YEAR_RATES, grade_curves
from accunode_cli.scoring import RATINGS, PDModel
from accunode_cli.scoring.generator import generate
from accunode_cli.scoring.outputs import RATING_DEFAULT_RATES

# The stated tolerance: for each implied grade holding at least 100 of the 10,000 rows, the
# term structure's five-year multiple (average five-year cumulative PD over average one-year PD)
# is within a factor of 1.5 of S&P's (five-year rate over one-year rate), and so is the average
# five-year PD itself wherever the grade's average one-year PD is within 1.5x of S&P's one-year
# rate. (Where it is not, the gap is the one-year PD's position inside the grade, not the term
# structure: the annual model's flatter PDs put its BBB companies at 0.22 % against 0.14 %.)
TOLERANCE = 1.5
MIN_ROWS = 100
# grades checked (multiple, level): the annual model gives almost no A or better, and its BBB
# and CCC companies sit near the grade edges
GRADES_CHECKED = {"annual": (4, 2), "quarterly": (5, 5)}


@pytest.mark.parametrize(("kind", "firms"), [("annual", 300), ("quarterly", 80)])
def test_ten_thousand_generated_rows(kind: str, firms: int, models: dict[str, PDModel]) -> None:
    """Non-decreasing in the horizon, year 1 is the model's PD, 5-year averages by grade fit."""
    model = models[kind]
    table = generate(kind, firms=firms, seed=21).to_arrow().slice(0, 10_000)
    assert table.num_rows == 10_000
    scored = model.score_record_batch(table)
    pds = cumulative_pds(scored.log_odds, 5)
    companies = scored.risk_codes >= 0  # a generated row without any ratio value has no PD
    assert np.isnan(pds[~companies]).all()
    assert np.all(np.diff(pds[companies], axis=1) >= 0)
    assert np.array_equal(pds[companies, 0], scored.probability[companies])  # bit for bit
    checked = levels = 0
    for code, grade in enumerate(RATINGS):
        rows = scored.rating_codes == code
        if rows.sum() < MIN_ROWS:
            continue
        one_year, five_year = pds[rows, 0].mean(), pds[rows, 4].mean()
        multiple = (five_year / one_year) / (FIVE_YEAR_RATES[code] / RATING_DEFAULT_RATES[code])
        assert 1 / TOLERANCE <= multiple <= TOLERANCE, (grade, multiple)
        checked += 1
        if 1 / TOLERANCE <= one_year / RATING_DEFAULT_RATES[code] <= TOLERANCE:
            ratio = five_year / FIVE_YEAR_RATES[code]
            assert 1 / TOLERANCE <= ratio <= TOLERANCE, (grade, ratio)
            levels += 1
    assert checked >= GRADES_CHECKED[kind][0] and levels >= GRADES_CHECKED[kind][1]


def test_year_one_equals_score_one_and_horizon_is_checked(models: dict[str, PDModel]) -> None:
    """One company: year 1 equals score_one's probability; horizons outside 1..5 are refused."""
    model = models["annual"]
    score = model.score_one({"net_income_margin": -4, "ebit_to_interest_expense": 1.2})
    assert score.log_odds is not None
    pds = cumulative_pds(np.asarray([score.log_odds]), 3)
    assert pds.shape == (1, 3) and pds[0, 0] == score.probability
    for bad in (0, 6, -1):
        with pytest.raises(ValueError, match="1 to 5"):
            cumulative_pds(np.asarray([score.log_odds]), bad)


def test_monotone_in_the_one_year_pd_at_every_horizon() -> None:
    """A riskier company never gets a lower cumulative PD at any horizon."""
    log_odds = np.linspace(-14, 6, 4001)
    pds = cumulative_pds(log_odds, 5)
    assert np.all(np.diff(pds, axis=0) > 0)
    assert np.all(np.diff(pds, axis=1) > 0)


def test_grade_anchors_reproduce_the_published_rates() -> None:
    """At each grade's one-year rate the curve passes through its five-year rate (AA..CCC)."""
    x, _ = grade_curves()
    pds = cumulative_pds(x, 5)
    assert pds[:, 4] == pytest.approx(np.asarray(FIVE_YEAR_RATES[1:]), rel=1e-9)


def test_unscored_rows_stay_unscored() -> None:
    """A NaN log-odds (a row that could not be scored) gives NaN at every horizon."""
    assert np.isnan(cumulative_pds(np.asarray([np.nan]), 5)).all()
