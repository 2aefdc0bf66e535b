"""sample_data/messy_annual.csv: each cleaning rule, means what it says."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow.csv as pcsv

from accunode_cli.scoring import load_model
from accunode_cli.tabular import BulkRequest, score_file

NM = math.inf  # the core reads +inf as not meaningful
# symbol -> the values each messy row stands for (ltd/cap, debt/ebitda, margin, cover, roa)
MEANT = {
    "ACME": (35.5, 2.1, 8.5, 9.2, 6.1),
    "PCT": (35.5, 2.1, 8.5, 9.2, 6.1),  # "12.5%" is 12.5
    "THOU": (1234.5, 2.1, 8.5, 1050.0, 6.1),  # "1,234.5" is 1234.5
    "NEG": (35.5, 2.1, -3.2, 9.2, -1.4),  # "(3.2)" is -3.2
    "PAD": (35.5, 2.1, 8.5, 9.2, 6.1),  # padding is ignored
    "MISS": (None, None, None, None, None),  # N/A, NA, n.a., -, --: no ratio value, no score
    "DASH": (None, None, None, 9.2, 6.1),  # em dash, blank, NaN
    "NM": (NM, NM, 8.5, NM, 6.1),  # NM, N/M, inf
    "SENT": (35.5, NM, 8.5, NM, 6.1),  # 1e8 and -1e8 sentinels
    "NEGD": (35.5, -4.2, -12.0, -0.8, -5.5),  # negative debt/EBITDA: the core's floor
}
FLAGS = {
    "ACME": "",
    "MISS": "long_term_debt_to_total_capital=missing;total_debt_to_ebitda=missing;"
    "net_income_margin=missing;ebit_to_interest_expense=missing;return_on_assets=missing",
    "DASH": "long_term_debt_to_total_capital=missing;total_debt_to_ebitda=missing;"
    "net_income_margin=missing",
    "NM": "long_term_debt_to_total_capital=not_meaningful;total_debt_to_ebitda=not_meaningful;"
    "ebit_to_interest_expense=not_meaningful",
    "NEGD": "total_debt_to_ebitda=not_meaningful",
}


def test_messy_sample_means_what_it_says(sample_data: Path, tmp_path: Path) -> None:
    """Each messy row scores exactly like the clean numbers it stands for; the typo is rejected."""
    target = tmp_path / "out.csv"
    result = score_file(
        BulkRequest(input=str(sample_data / "messy_annual.csv"), output=str(target))
    )
    assert result.summary["rows"] == 11 and result.summary["rejected"] == 2
    rows = {row["Company Symbol"]: row for row in pcsv.read_csv(target).to_pylist()}
    model = load_model("annual")
    for symbol, values in MEANT.items():
        columns = {name: [value] for name, value in zip(model.ratio_names, values, strict=True)}
        expected = model.score_columns(columns).row(0)
        assert rows[symbol]["probability"] == expected.probability, symbol
    for symbol, flags in FLAGS.items():
        assert (rows[symbol]["flags"] or "") == flags, symbol
    assert rows["MISS"]["probability"] is None and rows["MISS"]["error"] == "no ratio values"
    assert rows["THOU"]["flags"] == "long_term_debt_to_total_capital=out_of_range"
    assert rows["BAD"]["probability"] is None
    assert rows["BAD"]["error"] == "net_income_margin: 'abc' is not a number"
