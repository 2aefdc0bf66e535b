"""Generate training data calibrated to published credit facts (shared/reference/credit-facts.md).

A panel of firms moves through 1990-2025. Each firm has a latent credit quality ``q`` (an AR(1)
process) that sets its rating bucket (the 2010-2016 rating mix of large US firms) and, through
the S&P median ratios by rating, the centre of each of its ratios. Sector shifts, a persistent
firm effect, shared profitability and leverage shocks and Student-t noise spread the ratios
into realistic heavy tails. The true PD is a monotone function of the full ratios plus the year
of the credit cycle (speculative-grade default rates by year, so bad years run 3-5x the
average); each row's default is drawn from it and the firm is replaced after a default.

The real missing-value mechanisms are reproduced: a firm with no debt has no interest expense
(coverage blank, debt ratios blank or zero: a good sign); negative EBITDA blanks debt / EBITDA or
writes NM or a sentinel (a bad sign); negative EBIT gives negative coverage or a blank; negative
equity pushes long-term debt / capital past 100 % or makes it NM. Not-meaningful cells are
written as the sentinel 1e8 or as negative values, as real exports do; blanks are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "GeneratedData", "generate", "band_default_rates", "CYCLE", "RATING_MIX", "REFERENCE_BANDS",
    "FIRST_YEAR", "LAST_YEAR",
]  # fmt: skip

FIRST_YEAR, LAST_YEAR = 1990, 2025
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
RATING_MIX = (0.003, 0.044, 0.196, 0.331, 0.241, 0.149, 0.036)  # large US firms, 2010-2016
SENTINEL = 1e8

# Speculative-grade default rate by year (%), the shape of the credit cycle.
CYCLE = dict(zip(range(FIRST_YEAR, LAST_YEAR + 1), (
    8.1, 11.0, 6.1, 2.5, 2.1, 3.5, 1.8, 2.0, 3.4, 5.5, 6.2, 9.8, 9.5, 4.9, 2.3, 1.4, 1.1, 0.9,
    4.1, 9.9, 2.9, 1.7, 2.6, 2.1, 1.4, 2.4, 3.7, 2.0, 1.6, 2.3, 5.5, 1.7, 1.6, 3.3, 2.9, 2.6,
), strict=True))  # fmt: skip

SECTORS = ("industrials", "technology", "utilities", "energy", "consumer", "healthcare",
           "materials", "communication")  # fmt: skip
SECTOR_WEIGHTS = (0.20, 0.15, 0.07, 0.08, 0.18, 0.12, 0.10, 0.10)


@dataclass(frozen=True)
class RatioModel:
    """How one ratio is drawn: medians by rating in a transformed space, noise and loadings."""

    medians: tuple[float, ...]  # AAA .. CCC, in the ratio's unit
    space: str  # "log", "logit" (share of 100) or "linear"
    noise: float  # scale of the Student-t(4) noise in the transformed space
    firm: float  # scale of the persistent firm effect
    profit: float  # loading on the shared profitability shock (positive: higher when profitable)
    leverage: float  # loading on the shared leverage shock
    sector: tuple[float, ...]  # shift per sector in the transformed space


_ANNUAL = {
    "long_term_debt_to_total_capital": RatioModel(
        (13, 22, 28, 35, 46, 60, 74), "logit", 0.45, 0.35, 0.0, 0.45,
        (0.0, -0.5, 0.6, 0.1, 0.0, -0.2, 0.1, 0.2)),
    "total_debt_to_ebitda": RatioModel(
        (0.3, 0.9, 1.4, 2.0, 3.2, 5.0, 7.5), "log", 0.40, 0.25, -0.30, 0.35,
        (0.0, -0.3, 0.4, -0.1, 0.0, -0.1, 0.0, 0.2)),
    "net_income_margin": RatioModel(
        (18.5, 14.5, 12, 9.5, 6.5, 3, -4.5), "linear", 4.0, 3.0, 3.5, 0.0,
        (0.0, 4.0, 1.0, 0.0, -2.5, 2.0, -1.0, 1.0)),
    "ebit_to_interest_expense": RatioModel(
        (30, 19, 13, 8.5, 4.5, 2.0, 0.7), "log", 0.55, 0.30, 0.45, -0.30,
        (0.0, 0.4, -0.4, 0.0, 0.0, 0.2, 0.0, -0.1)),
    "return_on_assets": RatioModel(
        (15, 12, 9, 7, 4.8, 1.8, -4), "linear", 2.8, 2.0, 2.5, 0.0,
        (0.0, 1.5, -3.0, 0.0, 1.5, 0.5, 0.0, -1.0)),
}  # fmt: skip

_QUARTERLY = {
    "total_debt_to_ebitda": RatioModel(
        (0.5, 1.2, 1.8, 2.6, 3.9, 5.5, 8.0), "log", 0.42, 0.25, -0.30, 0.35,
        (0.0, -0.3, 0.4, -0.1, 0.0, -0.1, 0.0, 0.2)),
    "sga_margin": RatioModel(
        (30, 27, 24, 21, 18, 15, 12), "log", 0.30, 0.25, 0.10, 0.0,
        (0.0, 0.5, -1.2, -0.9, 0.2, 0.4, -0.4, 0.3)),
    "long_term_debt_to_total_capital": RatioModel(
        (18, 28, 36, 44, 56, 68, 80), "logit", 0.45, 0.35, 0.0, 0.45,
        (0.0, -0.5, 0.6, 0.1, 0.0, -0.2, 0.1, 0.2)),
    "return_on_capital": RatioModel(
        (30, 24, 17, 13, 10, 6.5, 1.5), "linear", 4.0, 3.0, 3.5, 0.0,
        (0.0, 4.0, -4.0, 0.0, 1.0, 2.0, -1.0, 0.0)),
}  # fmt: skip

# True PD: logit = intercept + cycle(year) + scale * sum_j weight_j * shape_j(ratio_j)
#                 + tail * sum_j distress_j(ratio_j) + sector.
# The shapes are flat enough that each ratio's band default rates look like the real set's
# (section 4 of credit-facts.md) and a ratio-only model reaches an accuracy ratio near the
# published ones (section 6); the distress terms add risk only deep in the bad tail (EBIT below
# 1.5x interest, leverage past 65 %, debt / EBITDA past 5x, losses), where few firms sit, so a
# company bad on every ratio still scores CRITICAL.
_TRUE_PD: dict[str, dict[str, Any]] = {
    "annual": {"intercept": -4.35, "scale": 0.35, "tail": 0.25,
               "weights": {"long_term_debt_to_total_capital": 0.9, "total_debt_to_ebitda": 1.0,
                           "net_income_margin": 0.8, "ebit_to_interest_expense": 1.2,
                           "return_on_assets": 0.7}},
    "quarterly": {"intercept": -4.55, "scale": 0.5, "tail": 0.35,
                  "weights": {"total_debt_to_ebitda": 1.1, "sga_margin": 0.6,
                              "long_term_debt_to_total_capital": 0.9, "return_on_capital": 1.4}},
}  # fmt: skip
_CYCLE_STRENGTH = 0.8  # worst year about 4x the average year
_SECTOR_PD = (0.0, 0.1, -0.3, 0.2, 0.05, -0.1, 0.1, 0.0)


@dataclass(frozen=True)
class GeneratedData:
    """A generated table: ratio columns (NaN blank, 1e8 or negative for NM) plus truth."""

    columns: dict[str, np.ndarray]

    def to_arrow(self) -> Any:
        """Return the table as a pyarrow Table."""
        import pyarrow as pa

        return pa.table(self.columns)


def _anchors() -> np.ndarray:
    from scipy.stats import norm

    upper = np.cumsum(RATING_MIX[::-1])  # from CCC (worst) upwards
    lower = np.concatenate([[0.0], upper[:-1]])
    return np.asarray(norm.ppf((lower + upper) / 2))[::-1]  # AAA .. CCC, decreasing q


def _rating_of(q: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    cuts = norm.ppf(np.cumsum(RATING_MIX[::-1])[:-1])  # increasing
    return (len(RATINGS) - 1 - np.searchsorted(cuts, q)).astype(np.int8)


def _transform(values: np.ndarray, space: str) -> np.ndarray:
    if space == "log":
        return np.log(values)
    if space == "logit":
        share = values / 100.0
        return np.log(share / (1 - share))
    return values


def _inverse(values: np.ndarray, space: str) -> np.ndarray:
    if space == "log":
        return np.exp(values)
    if space == "logit":
        return 100.0 / (1.0 + np.exp(-values))
    return values


def _median_curve(model: RatioModel, q: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Interpolate the transformed medians over q, extending the end slopes a little."""
    x = anchors[::-1]
    y = _transform(np.asarray(model.medians, dtype=float), model.space)[::-1]
    inside = np.interp(q, x, y)
    low_slope = (y[1] - y[0]) / (x[1] - x[0])
    high_slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
    below = np.clip(q - x[0], -1.5, 0.0) * low_slope
    above = np.clip(q - x[-1], 0.0, 1.5) * high_slope
    return inside + below + above


def _shapes(
    kind: str, full: dict[str, np.ndarray], flags: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Monotone risk shapes of the full (not blanked) ratios, each roughly within [-1, 1.3]."""
    shapes = {}
    lev = full["long_term_debt_to_total_capital"]
    centre = 40.0 if kind == "annual" else 45.0
    shapes["long_term_debt_to_total_capital"] = np.tanh((lev - centre) / 28) + 0.25 * np.clip(
        (lev - 100) / 100, 0, 3
    )
    debt = full["total_debt_to_ebitda"]
    pivot = 2.3 if kind == "annual" else 3.2
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.tanh((np.log(np.maximum(debt, 0) + 0.3) - np.log(pivot)) / 0.8)
    shapes["total_debt_to_ebitda"] = np.where(flags["negative_ebitda"], 1.15, d)
    if kind == "annual":
        margin = full["net_income_margin"]
        shapes["net_income_margin"] = -np.tanh((margin - 5) / 10) + 0.8 * np.clip(
            (-10 - margin) / 20, 0, 1.5
        )  # deep losses: distress beyond what the middle of the range suggests
        cover = full["ebit_to_interest_expense"]
        with np.errstate(invalid="ignore"):
            c = -np.tanh((np.log(np.maximum(cover, 0.05)) - np.log(3)) / 0.8)
        c = c + 0.8 * np.clip(1.0 - cover, 0, 1)  # EBIT below interest: cannot service debt
        c = np.where(cover <= 0, 1.8 + 0.02 * np.minimum(-cover, 5), c)
        shapes["ebit_to_interest_expense"] = np.where(flags["no_debt"], -1.0, c)
        shapes["return_on_assets"] = -np.tanh((full["return_on_assets"] - 4) / 7)
    else:
        shapes["sga_margin"] = -np.tanh((np.log(full["sga_margin"]) - np.log(18)) / 0.4)
        roc = full["return_on_capital"]
        shapes["return_on_capital"] = -np.tanh((roc - 7) / 8) + 0.8 * np.clip((-roc) / 15, 0, 1.5)
    return shapes


def _draw_ratios(
    kind: str,
    rng: np.random.Generator,
    q_eff: np.ndarray,
    sector: np.ndarray,
    firm_effects: dict[str, np.ndarray],
    no_debt: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Draw one period's full ratios and the flags of the real missing-value mechanisms."""
    models = _ANNUAL if kind == "annual" else _QUARTERLY
    n = q_eff.shape[0]
    anchors = _anchors()
    profit = rng.standard_normal(n)
    leverage = rng.standard_normal(n)
    full = {}
    for name, model in models.items():
        centre = _median_curve(model, q_eff, anchors)
        shift = np.asarray(model.sector)[sector]
        noise = rng.standard_t(4, n) * model.noise
        z = centre + shift + firm_effects[name] * model.firm + model.profit * profit
        full[name] = _inverse(z + model.leverage * leverage + noise, model.space)
    p_loss = 1 / (1 + np.exp(3.8 + 1.2 * q_eff + 0.9 * profit))
    loss = np.where(rng.random(n) < p_loss, rng.exponential(22.0, n), 0.0)
    profit_name = "net_income_margin" if kind == "annual" else "return_on_capital"
    full[profit_name] = np.maximum(full[profit_name] - loss, -300.0)
    if kind == "annual":
        full["return_on_assets"] = np.maximum(full["return_on_assets"] - 0.4 * loss, -80.0)
    margin = full[profit_name]
    negative_ebitda = margin + 9 + 3 * rng.standard_normal(n) < 0
    negative_ebit = negative_ebitda | (margin + 4 + 3 * rng.standard_normal(n) < 0)
    p_neg_equity = 1 / (1 + np.exp(4.6 + 1.6 * q_eff - 0.8 * leverage))
    negative_equity = (rng.random(n) < p_neg_equity) & ~no_debt
    lev = full["long_term_debt_to_total_capital"]
    lev = np.where(negative_equity, np.minimum(100 + rng.exponential(45.0, n), 600.0), lev)
    full["long_term_debt_to_total_capital"] = np.where(no_debt, 0.0, lev)
    full["total_debt_to_ebitda"] = np.where(no_debt, 0.0, full["total_debt_to_ebitda"])
    if kind == "annual":
        cover = full["ebit_to_interest_expense"]
        cover = np.where(negative_ebit, -np.exp(rng.normal(-0.5, 0.8, n)), cover)
        full["ebit_to_interest_expense"] = np.where(no_debt, np.inf, cover)
    flags = {
        "no_debt": no_debt,
        "negative_ebitda": negative_ebitda & ~no_debt,
        "negative_ebit": negative_ebit & ~no_debt,
        "negative_equity": negative_equity,
    }
    return full, flags


def _choose(
    rng: np.random.Generator, n: int, options: list[Any], weights: list[float] | tuple[float, ...]
) -> np.ndarray:
    return np.asarray(options)[np.searchsorted(np.cumsum(weights), rng.random(n) * sum(weights))]


def _observe(
    kind: str, rng: np.random.Generator, full: dict[str, np.ndarray], flags: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Write the full ratios as an exporter would: blanks, NM sentinels, negative values."""
    n = flags["no_debt"].shape[0]
    nan, sentinel = np.nan, SENTINEL
    out = {name: values.astype(float).copy() for name, values in full.items()}
    no_debt, neg_ebitda = flags["no_debt"], flags["negative_ebitda"]
    lev_name, debt_name = "long_term_debt_to_total_capital", "total_debt_to_ebitda"
    out[lev_name] = np.where(no_debt, _choose(rng, n, [nan, 0.0], [0.7, 0.3]), out[lev_name])
    out[debt_name] = np.where(no_debt, _choose(rng, n, [nan, 0.0], [0.6, 0.4]), out[debt_name])
    neg_value = -np.exp(rng.normal(1.0, 0.8, n))
    written = _choose(rng, n, [0, 1, 2], [0.35, 0.45, 0.2])
    out[debt_name] = np.where(
        neg_ebitda,
        np.choose(written, [np.full(n, nan), np.full(n, sentinel), neg_value]),
        out[debt_name],
    )
    neg_equity = flags["negative_equity"]
    written = _choose(rng, n, [0, 1, 2], [0.75, 0.15, 0.10])
    lev_nm = np.where(written == 1, -rng.uniform(5, 300, n), nan)
    out[lev_name] = np.where(neg_equity & (written > 0), lev_nm, out[lev_name])
    if kind == "annual":
        cover_name = "ebit_to_interest_expense"
        cover = out[cover_name]
        written = _choose(rng, n, [0, 1, 2], [0.85, 0.10, 0.05])
        cover = np.where(
            no_debt,
            np.choose(written, [np.full(n, nan), np.full(n, sentinel), np.full(n, -sentinel)]),
            cover,
        )
        written = _choose(rng, n, [0, 1, 2], [0.3, 0.35, 0.35])
        neg_ebit = flags["negative_ebit"]
        cover = np.where(neg_ebit & (written == 1), nan, cover)
        out[cover_name] = np.where(neg_ebit & (written == 2), sentinel, cover)
        random_missing = {
            lev_name: 0.04,
            debt_name: 0.03,
            "net_income_margin": 0.008,
            cover_name: 0.03,
            "return_on_assets": 0.045,
        }
    else:
        random_missing = {
            lev_name: 0.05,
            debt_name: 0.03,
            "sga_margin": 0.06,
            "return_on_capital": 0.03,
        }
    for name, share in random_missing.items():
        out[name] = np.where(rng.random(n) < share, nan, out[name])
    return out


def _distress(kind: str, full: dict[str, np.ndarray], flags: dict[str, np.ndarray]) -> np.ndarray:
    """Extra risk deep in the bad tail of each ratio (zero for most firms)."""
    total = np.clip((full["long_term_debt_to_total_capital"] - 65) / 30, 0, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        debt = np.log(np.maximum(full["total_debt_to_ebitda"], 1e-9)) - np.log(5)
    total = total + np.where(flags["negative_ebitda"], 1.0, np.clip(debt / 0.7, 0, 1.5))
    if kind == "annual":
        total = total + np.clip((-5 - full["net_income_margin"]) / 20, 0, 1.5)
        cover = np.clip((1.5 - full["ebit_to_interest_expense"]) / 1.5, 0, 1.3)
        total = total + np.where(flags["no_debt"], 0.0, cover)
        total = total + np.clip((-3 - full["return_on_assets"]) / 10, 0, 1.5)
    else:
        total = total + 1.5 * np.clip((-3 - full["return_on_capital"]) / 10, 0, 1.5)
    return np.asarray(total, dtype=np.float64)


def _true_logit(
    kind: str,
    full: dict[str, np.ndarray],
    flags: dict[str, np.ndarray],
    cycle: float,
    sector: np.ndarray,
) -> np.ndarray:
    params = _TRUE_PD[kind]
    shapes = _shapes(kind, full, flags)
    total = sum(params["weights"][name] * shape for name, shape in shapes.items())
    distress = params["tail"] * _distress(kind, full, flags)
    return (params["intercept"] + cycle + params["scale"] * total + distress
            + np.asarray(_SECTOR_PD)[sector])  # fmt: skip


def _cycle_shift() -> dict[int, float]:
    rates = np.asarray(list(CYCLE.values()))
    centre = np.log(rates).mean()
    return {year: _CYCLE_STRENGTH * float(np.log(rate) - centre) for year, rate in CYCLE.items()}


def generate(kind: str, *, firms: int = 10_000, seed: int = 7) -> GeneratedData:
    """Generate a firm-year (annual) or firm-quarter (quarterly) panel, seeded and deterministic."""
    if kind not in ("annual", "quarterly"):
        raise ValueError(f"unknown model kind {kind!r}")
    rng = np.random.default_rng([seed, 0 if kind == "annual" else 1])
    periods = (
        [(y, 0) for y in CYCLE]
        if kind == "annual"
        else [(y, k) for y in CYCLE for k in (1, 2, 3, 4)]
    )
    rho = 0.85 if kind == "annual" else 0.96
    names = list(_ANNUAL if kind == "annual" else _QUARTERLY)
    cycle = _cycle_shift()

    def new_firms(
        count: int,
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
        q0 = rng.standard_normal(count)
        effects = {name: rng.standard_normal(count) for name in names}
        sector = _choose(rng, count, list(range(len(SECTORS))), SECTOR_WEIGHTS)
        no_debt = rng.random(count) < 0.02 + 0.13 * (1 / (1 + np.exp(-1.5 * q0)))
        return q0, effects, sector, no_debt

    q, effects, sector, no_debt = new_firms(firms)
    firm_id = np.arange(firms)
    next_id = firms
    chunks: dict[str, list[np.ndarray]] = {}
    for year, quarter in periods:
        shock = cycle[year]
        q_eff = q - 0.25 * shock
        full, flags = _draw_ratios(kind, rng, q_eff, sector, effects, no_debt)
        logit = _true_logit(kind, full, flags, shock, sector)
        true_pd = 1 / (1 + np.exp(-logit))
        default = rng.random(firms) < true_pd
        observed = _observe(kind, rng, full, flags)
        row = {name: observed[name] for name in names}
        row.update({
            "firm_id": firm_id.copy(), "year": np.full(firms, year, dtype=np.int64),
            "sector": np.asarray(SECTORS)[sector], "rating": np.asarray(RATINGS)[_rating_of(q)],
            "default": default.astype(np.int8), "true_pd": true_pd,
        })  # fmt: skip
        if kind == "quarterly":
            row["quarter"] = np.full(firms, quarter, dtype=np.int64)
        for key, value in row.items():
            chunks.setdefault(key, []).append(value)
        q = rho * q + np.sqrt(1 - rho**2) * rng.standard_normal(firms)
        if default.any():  # a defaulted firm leaves the panel; a new one takes its place
            count = int(default.sum())
            q0, fresh_effects, fresh_sector, fresh_no_debt = new_firms(count)
            q[default] = q0
            for name in names:
                effects[name][default] = fresh_effects[name]
            sector[default] = fresh_sector
            no_debt[default] = fresh_no_debt
            firm_id[default] = np.arange(next_id, next_id + count)
            next_id += count
    return GeneratedData({key: np.concatenate(parts) for key, parts in chunks.items()})


# Section 4 of credit-facts.md: default rate (%) by band in a real corporate training set.
# Each entry: (upper edges of the bands, rates per band, rate when missing).
REFERENCE_BANDS: dict[str, dict[str, tuple[tuple[float, ...], tuple[float, ...], float]]] = {
    "annual": {
        "long_term_debt_to_total_capital": ((32, 38, 45, 63), (1.2, 1.9, 2.4, 3.4, 6.8), 1.0),
        "total_debt_to_ebitda": ((1.5, 2.3, 2.9, 3.7, 5.3), (0.9, 1.5, 2.3, 3.6, 4.7, 7.5), 1.3),
        "net_income_margin": ((-0.5, 2.9, 4.8, 8.2), (8.2, 4.1, 2.6, 1.9, 1.1), 2.9),
        "ebit_to_interest_expense": (
            (2.3, 3.4, 4.8, 6.6, 8.6, 11.3, 14.8, 21.4, 41.9),
            (7.8, 3.4, 4.0, 2.4, 0.9, 0.8, 0.6, 0.7, 0.9, 1.0), 2.6),
        "return_on_assets": ((-1.2, 3.6, 4.6, 6.9, 11.7), (6.0, 4.4, 3.3, 2.1, 1.0, 0.9), 1.1),
    },
    "quarterly": {
        "total_debt_to_ebitda": ((3.0, 4.3), (1.0, 2.0, 5.4), 1.0),
        "sga_margin": ((13.3, 17.5, 20.7, 37.2), (2.9, 2.8, 2.1, 0.4, 0.4), 0.8),
        "long_term_debt_to_total_capital": ((37.9, 51.9), (1.0, 1.2, 2.9), 1.8),
        "return_on_capital": (
            (2.6, 5.2, 7.4, 13.5, 16.1, 19.6, 26.0),
            (5.6, 1.8, 1.3, 1.1, 1.0, 0.6, 0.5, 0.5), 1.4),
    },
}  # fmt: skip


def _band_row(label: str, reference: float, outcomes: np.ndarray) -> dict[str, object]:
    generated = round(100 * float(outcomes.mean()), 2) if outcomes.size else None
    return {
        "band": label,
        "reference": reference,
        "rows": int(outcomes.size),
        "generated": generated,
    }


def band_default_rates(kind: str, table: Any) -> dict[str, list[dict[str, object]]]:
    """Compare a table's default rate (%) per ratio band with the real set's (section 4)."""
    from accunode_cli.scoring.cleaning import MISSING, OK, apply_floor, clean_column
    from accunode_cli.scoring.ratios import ratio_specs

    y = np.asarray(table.column("default").to_numpy(zero_copy_only=False), dtype=float)
    result: dict[str, list[dict[str, object]]] = {}
    for spec in ratio_specs(kind):
        edges, rates, missing_rate = REFERENCE_BANDS[kind][spec.name]
        cleaned = apply_floor(clean_column(table.column(spec.name)), spec.min_meaningful)
        ok = cleaned.status == OK
        band = np.searchsorted(np.asarray(edges), cleaned.values[ok], side="left")
        pairs = zip(edges[:-1], edges[1:], strict=True)
        labels = [f"<= {edges[0]}", *(f"{a} - {b}" for a, b in pairs), f"> {edges[-1]}"]
        rows = []
        for index, label in enumerate(labels):
            chosen = y[ok][band == index]
            rows.append(_band_row(label, rates[index], chosen))
        blank = y[cleaned.status == MISSING]
        rows.append(_band_row("missing", missing_rate, blank))
        result[spec.name] = rows
    return result
