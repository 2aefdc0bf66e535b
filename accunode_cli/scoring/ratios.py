"""The ratios each model reads: names, units, labels and the direction in which risk rises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Kind",
    "KINDS",
    "RatioSpec",
    "ANNUAL_RATIOS",
    "QUARTERLY_RATIOS",
    "ratio_specs",
    "ratio_names",
    "fold_column_name",
    "QUARTERS",
    "normalise_quarter",
]

Kind = Literal["annual", "quarterly"]
KINDS: tuple[Kind, ...] = ("annual", "quarterly")


@dataclass(frozen=True)
class RatioSpec:
    """One model input: its column name, unit and the direction in which risk rises."""

    name: str
    label: str
    unit: Literal["percent", "multiple"]
    direction: Literal[1, -1]  # +1: risk rises as the ratio rises; -1: risk rises as it falls
    # Values below this cannot arise from a meaningful denominator (debt / EBITDA < 0 means
    # negative EBITDA; long-term debt / capital < 0 means negative capital): not meaningful.
    min_meaningful: float | None = None
    # Values outside this range are scored as given but flagged ``out_of_range`` (a unit
    # mistake, or a long-term debt / capital of 1,234.5 %): about ten times the widest values
    # of the training data.
    plausible: tuple[float, float] | None = None

    @property
    def risk_rises_when(self) -> str:
        """Say in words which way the ratio moves when risk rises."""
        return "rises" if self.direction == 1 else "falls"

    def to_dict(self) -> dict[str, object]:
        """Return the spec as plain JSON data."""
        return {
            "name": self.name,
            "label": self.label,
            "unit": self.unit,
            "direction": self.direction,
            "min_meaningful": self.min_meaningful,
        }


_LTD_CAP = RatioSpec(
    "long_term_debt_to_total_capital",
    "Long-term debt / total capital",
    "percent",
    1,
    0.0,
    plausible=(0.0, 1000.0),
)
_DEBT_EBITDA = RatioSpec("total_debt_to_ebitda", "Total debt / EBITDA", "multiple", 1, 0.0)

ANNUAL_RATIOS: tuple[RatioSpec, ...] = (
    _LTD_CAP,
    _DEBT_EBITDA,
    RatioSpec("net_income_margin", "Net income margin", "percent", -1, plausible=(-1000.0, 1000.0)),
    RatioSpec("ebit_to_interest_expense", "EBIT / interest expense", "multiple", -1),
    RatioSpec("return_on_assets", "Return on assets", "percent", -1, plausible=(-1000.0, 1000.0)),
)

QUARTERLY_RATIOS: tuple[RatioSpec, ...] = (
    _DEBT_EBITDA,
    RatioSpec("sga_margin", "SG&A margin", "percent", -1, plausible=(0.0, 10000.0)),
    _LTD_CAP,
    RatioSpec("return_on_capital", "Return on capital", "percent", -1, plausible=(-1000.0, 1000.0)),
)


def ratio_specs(kind: str) -> tuple[RatioSpec, ...]:
    """Return the ratio specs of a model kind ('annual' or 'quarterly')."""
    if kind == "annual":
        return ANNUAL_RATIOS
    if kind == "quarterly":
        return QUARTERLY_RATIOS
    raise ValueError(f"unknown model kind {kind!r}; use 'annual' or 'quarterly'")


def ratio_names(kind: str) -> tuple[str, ...]:
    """Return the column names of a model kind's ratios, in model order."""
    return tuple(spec.name for spec in ratio_specs(kind))


QUARTERS: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4")


def normalise_quarter(value: str | int) -> str:
    """Return Q1..Q4 for 1, "1", "q1" or " Q1 "; anything else raises InputError."""
    from accunode_cli.errors import InputError

    text = str(value).strip().upper()
    text = text if text.startswith("Q") else f"Q{text}"
    if isinstance(value, bool) or text not in QUARTERS:
        raise InputError(
            f"reporting_quarter must be one of Q1..Q4 (or 1..4), not {value!r}",
            details={"field": "reporting_quarter"},
        )
    return text


_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold_column_name(name: str) -> str:
    """Fold a column header into its matching key.

    Lower case; "&" and apostrophes vanish (so "SG&A" is "sga"); every other run of spaces or
    punctuation becomes one underscore; the joining word "to" is dropped, so
    "Long-Term Debt / Total Capital" and "long_term_debt_to_total_capital" share one key.
    """
    text = name.strip().lower().replace("&", "").replace("'", "")
    words = [word for word in _NON_WORD.split(text) if word and word != "to"]
    return "_".join(words)
