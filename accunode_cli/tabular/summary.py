"""The summary of a bulk run, accumulated batch by batch in memory that does not grow with rows.

Counts are exact. The mean PD is exact (a running sum). The median PD comes from a fixed
histogram of log-odds: 40,000 bins of width 0.001 over [-20, 20] (PDs from 2e-9 to 1 - 2e-9;
rows beyond fall in the end bins), interpolated inside its bin. Its log-odds is within 0.0005
of the exact median's, so the PD is within 0.05 % of itself (a median PD of 2.00 % is reported
between 1.999 % and 2.001 %). The state is about 330 KB however many rows the file has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BulkSummary", "LogOddsHistogram"]

_LOW, _HIGH, _WIDTH = -20.0, 20.0, 0.001
_BINS = round((_HIGH - _LOW) / _WIDTH)


@dataclass
class LogOddsHistogram:
    """A fixed histogram of log-odds for quantiles of the PD in bounded memory."""

    counts: np.ndarray = field(default_factory=lambda: np.zeros(_BINS, dtype=np.int64))

    def add(self, log_odds: np.ndarray) -> None:
        """Count finite log-odds (one bin each; beyond the range, the end bins)."""
        index = np.floor((log_odds - _LOW) / _WIDTH)
        index = np.clip(index, 0, _BINS - 1).astype(np.intp)
        self.counts += np.bincount(index, minlength=_BINS)

    @property
    def total(self) -> int:
        """Return how many values were counted."""
        return int(self.counts.sum())

    def quantile(self, q: float) -> float | None:
        """Return the PD at quantile ``q`` (0..1) as numpy's default method would; None if empty.

        Numpy interpolates linearly between the two order statistics around the rank; each
        is estimated inside its bin (its values spread evenly), within 0.0005 in log-odds.
        """
        total = self.total
        if total == 0:
            return None
        rank = q * (total - 1)
        cumulative = np.cumsum(self.counts)
        low = math.floor(rank)
        below = self._order_statistic(cumulative, low)
        if rank == low:
            return below
        above = self._order_statistic(cumulative, low + 1)
        return below + (rank - low) * (above - below)

    def _order_statistic(self, cumulative: np.ndarray, k: int) -> float:
        """Return the PD of the k-th smallest value (0-based), from its bin."""
        b = int(np.searchsorted(cumulative, k, side="right"))
        before = int(cumulative[b - 1]) if b else 0
        inside = (k - before + 0.5) / int(self.counts[b])
        log_odds = _LOW + (b + inside) * _WIDTH
        return 1.0 / (1.0 + math.exp(-log_odds))


@dataclass
class BulkSummary:
    """Counts and PD statistics over every row of a bulk run."""

    kind: str
    model_version: str
    ratio_names: tuple[str, ...]
    rows: int = 0
    rejected: int = 0
    no_ratio_values: int = 0
    risk_counts: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=np.int64))
    rating_counts: np.ndarray = field(default_factory=lambda: np.zeros(7, dtype=np.int64))
    status_counts: np.ndarray | None = None  # (status code, ratio)
    probability_sum: float = 0.0
    histogram: LogOddsHistogram = field(default_factory=LogOddsHistogram, repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def scored(self) -> int:
        """Return how many rows got a probability."""
        return self.rows - self.rejected

    def add(self, batch: Any) -> None:
        """Count one ScoredBatch."""
        from accunode_cli.scoring import STATUS_NAMES
        from accunode_cli.scoring.results import NO_RATIO_VALUES

        scored = batch.risk_codes >= 0
        self.rows += len(batch)
        self.rejected += int(len(batch) - scored.sum())
        empty = int((batch.row_error[~scored] == NO_RATIO_VALUES).sum())
        self.no_ratio_values += empty
        self.risk_counts += np.bincount(batch.risk_codes[scored], minlength=4)[:4]
        self.rating_counts += np.bincount(batch.rating_codes[scored], minlength=7)[:7]
        companies = batch.status  # a footer's blanks are no company's missing ratios:
        if empty:
            companies = companies[batch.row_error != NO_RATIO_VALUES]
        counts = np.stack([(companies == code).sum(axis=0) for code in range(len(STATUS_NAMES))])
        self.status_counts = counts if self.status_counts is None else self.status_counts + counts
        probability = batch.probability[scored]
        self.probability_sum += float(probability.sum())
        self.histogram.add(batch.log_odds[scored])

    def _by_ratio(self, code: int) -> dict[str, int]:
        counts = (
            self.status_counts[code]
            if self.status_counts is not None
            else np.zeros(len(self.ratio_names), dtype=np.int64)
        )
        return {name: int(count) for name, count in zip(self.ratio_names, counts, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        from accunode_cli.scoring import MISSING, NOT_MEANINGFUL, RATINGS, RISK_LEVELS
        from accunode_cli.scoring.cleaning import OUT_OF_RANGE

        scored = self.scored
        return {
            "kind": self.kind,
            "model_version": self.model_version,
            "rows": self.rows,
            "scored": scored,
            "rejected": self.rejected,
            "rejected_no_ratio_values": self.no_ratio_values,
            "risk_levels": {
                level: {
                    "count": int(count),
                    "share": float(count) / scored if scored else 0.0,
                }
                for level, count in zip(RISK_LEVELS, self.risk_counts, strict=True)
            },
            "implied_ratings": {
                rating: int(count)
                for rating, count in zip(RATINGS, self.rating_counts, strict=True)
            },
            "mean_probability": self.probability_sum / scored if scored else None,
            "median_probability": self.histogram.quantile(0.5) if scored else None,
            "missing_by_ratio": self._by_ratio(MISSING),
            "not_meaningful_by_ratio": self._by_ratio(NOT_MEANINGFUL),
            "out_of_range_by_ratio": self._by_ratio(OUT_OF_RANGE),
            "warnings": list(self.warnings),
        }
