"""Map a probability of default to a risk level and an implied rating.

Risk levels are the predecessor's bands, kept so users' thresholds still mean the same.
Implied ratings come from S&P's one-year global corporate default rates, 1981-2024 (AAA 0.00 %,
AA 0.02 %, A 0.05 %, BBB 0.14 %, BB 0.56 %, B 2.93 %, CCC/C 26.12 %): each boundary is the
geometric mean of the two neighbouring grades' rates, and AAA ends at 0.01 % because its
published rate is zero.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "RISK_LEVELS",
    "RISK_BOUNDARIES",
    "RATINGS",
    "RATING_DEFAULT_RATES",
    "RATING_BOUNDARIES",
    "risk_level_for",
    "implied_rating_for",
    "risk_level_codes",
    "rating_codes",
]

RISK_LEVELS: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
RISK_BOUNDARIES: tuple[float, ...] = (0.02, 0.05, 0.15)  # LOW < 2 % <= MEDIUM < 5 % <= HIGH < 15 %

RATINGS: tuple[str, ...] = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
RATING_DEFAULT_RATES: tuple[float, ...] = (0.0, 0.0002, 0.0005, 0.0014, 0.0056, 0.0293, 0.2612)


def _rating_boundaries() -> tuple[float, ...]:
    bounds = [0.0001]  # AAA's published rate is 0: its upper bound is half of AA's rate
    for low, high in zip(RATING_DEFAULT_RATES[1:-1], RATING_DEFAULT_RATES[2:], strict=True):
        bounds.append(round(math.sqrt(low * high), 6))
    return tuple(bounds)


# AAA < 0.01 % <= AA < 0.0316 % <= A < 0.0837 % <= BBB < 0.28 % <= BB < 1.281 %
# <= B < 8.748 % <= CCC
RATING_BOUNDARIES: tuple[float, ...] = _rating_boundaries()

_RISK_EDGES = np.asarray(RISK_BOUNDARIES)
_RATING_EDGES = np.asarray(RATING_BOUNDARIES)


def risk_level_codes(probability: np.ndarray) -> np.ndarray:
    """Return the index into RISK_LEVELS of each probability (-1 where it is NaN)."""
    codes = np.searchsorted(_RISK_EDGES, probability, side="right").astype(np.int8)
    codes[np.isnan(probability)] = -1
    return codes


def rating_codes(probability: np.ndarray) -> np.ndarray:
    """Return the index into RATINGS of each probability (-1 where it is NaN)."""
    codes = np.searchsorted(_RATING_EDGES, probability, side="right").astype(np.int8)
    codes[np.isnan(probability)] = -1
    return codes


def risk_level_for(probability: float) -> str:
    """Return the risk level of one probability of default."""
    return RISK_LEVELS[int(risk_level_codes(np.asarray([probability]))[0])]


def implied_rating_for(probability: float) -> str:
    """Return the implied rating of one probability of default."""
    return RATINGS[int(rating_codes(np.asarray([probability]))[0])]
