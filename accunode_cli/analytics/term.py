"""Cumulative PDs for 1 to 5 years from the one-year PD (a term structure).

Anchors: S&P's global corporate default study, 1981-2024 (shared credit facts, table 1): each
grade's one-year rate p1 and five-year cumulative rate p5. Between one and five years a grade's
cumulative hazard H(t) = -ln(1 - PD(t)) follows a power of time, H(t) = H(1) t^b with
b = ln(H(5) / H(1)) / ln 5 (b > 1 for investment grades, whose risk grows as they migrate down;
b < 1 for CCC, whose survivors improve). That gives each grade a log-odds shift
d_g(t) = logit(PD_g(t)) - logit(p1_g), which is 0 at one year and grows with t.

A company with one-year log-odds z gets the shift interpolated linearly in z between the grades'
one-year log-odds (flat beyond AA and CCC), and PD(t) = logistic(z + d(t)). Because every d_g
grows with t and the weights depend on z alone, PD(t) never decreases with t; the one-year
point is the model's own PD, bit for bit. AAA (published one-year rate 0) cannot anchor a curve
in log-odds: PDs below AA's take AA's shift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from accunode_cli.scoring.outputs import RATING_DEFAULT_RATES
from accunode_cli.scoring.results import probability_from_log_odds

if TYPE_CHECKING:
    from accunode_cli.scoring import ScoredBatch

__all__ = [
    "MAX_HORIZON",
    "FIVE_YEAR_RATES",
    "grade_curves",
    "cumulative_pds",
    "horizon_columns",
    "horizon_arrays",
    "check_horizon",
]

MAX_HORIZON = 5
# S&P global 1981-2024, five-year cumulative default rate by grade (AAA .. CCC/C).
FIVE_YEAR_RATES: tuple[float, ...] = (0.0034, 0.0028, 0.0039, 0.0136, 0.0575, 0.1560, 0.4653)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def grade_curves() -> tuple[np.ndarray, np.ndarray]:
    """Return (one-year log-odds of AA..CCC, shifts d[g, t-1] for t = 1..5)."""
    p1 = np.asarray(RATING_DEFAULT_RATES[1:])
    p5 = np.asarray(FIVE_YEAR_RATES[1:])
    h1, h5 = -np.log1p(-p1), -np.log1p(-p5)
    power = np.log(h5 / h1) / np.log(MAX_HORIZON)
    years = np.arange(1, MAX_HORIZON + 1, dtype=np.float64)
    hazard = h1[:, None] * years[None, :] ** power[:, None]
    x = _logit(p1)
    shifts = _logit(-np.expm1(-hazard)) - x[:, None]
    shifts[:, 0] = 0.0
    return x, shifts


_X, _SHIFTS = grade_curves()


def check_horizon(horizon: int) -> int:
    """Return the horizon if it is 1..5, else raise ValueError naming the range."""
    if isinstance(horizon, bool) or not 1 <= int(horizon) <= MAX_HORIZON:
        raise ValueError(f"the horizon must be 1 to {MAX_HORIZON} years, not {horizon}")
    return int(horizon)


def cumulative_pds(log_odds: np.ndarray, horizon: int = MAX_HORIZON) -> np.ndarray:
    """Return cumulative PDs (n, horizon) for 1..horizon years; column 0 is the model's PD."""
    horizon = check_horizon(horizon)
    z = np.asarray(log_odds, dtype=np.float64)
    out = np.empty((z.shape[0], horizon), dtype=np.float64)
    out[:, 0] = probability_from_log_odds(z)
    finite = np.nan_to_num(z, nan=0.0)
    for t in range(1, horizon):
        shift = np.interp(finite, _X, _SHIFTS[:, t])
        out[:, t] = probability_from_log_odds(z + shift)
    return out


def horizon_columns(log_odds: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
    """Return {"cumulative_pd_1y": ..., ...} for 1..horizon years."""
    pds = cumulative_pds(log_odds, horizon)
    return {f"cumulative_pd_{t + 1}y": pds[:, t] for t in range(pds.shape[1])}


def horizon_arrays(scored: ScoredBatch, horizon: int) -> dict[str, Any]:
    """Return the cumulative PD columns as pyarrow arrays, null where a row is not scored."""
    import pyarrow as pa

    valid = scored.risk_codes >= 0
    columns = {}
    for name, values in horizon_columns(scored.log_odds, horizon).items():
        data = pa.py_buffer(np.ascontiguousarray(values))
        if valid.all():
            columns[name] = pa.Array.from_buffers(pa.float64(), len(values), [None, data])
        else:
            bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
            columns[name] = pa.Array.from_buffers(
                pa.float64(), len(values), [bitmap, data], null_count=int((~valid).sum())
            )
    return columns
