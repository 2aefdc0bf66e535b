"""The summary of a bulk run, accumulated batch by batch from the scored arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BulkSummary"]


@dataclass
class BulkSummary:
    """Counts and PD statistics over every row of a bulk run."""

    kind: str
    model_version: str
    ratio_names: tuple[str, ...]
    rows: int = 0
    rejected: int = 0
    risk_counts: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=np.int64))
    rating_counts: np.ndarray = field(default_factory=lambda: np.zeros(7, dtype=np.int64))
    missing: np.ndarray | None = None
    not_meaningful: np.ndarray | None = None
    _probabilities: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def scored(self) -> int:
        """Return how many rows got a probability."""
        return self.rows - self.rejected

    def add(self, batch: Any) -> None:
        """Count one ScoredBatch."""
        from accunode_cli.scoring import MISSING, NOT_MEANINGFUL

        scored = batch.risk_codes >= 0
        self.rows += len(batch)
        self.rejected += int(len(batch) - scored.sum())
        self.risk_counts += np.bincount(batch.risk_codes[scored], minlength=4)[:4]
        self.rating_counts += np.bincount(batch.rating_codes[scored], minlength=7)[:7]
        missing = (batch.status == MISSING).sum(axis=0)
        not_meaningful = (batch.status == NOT_MEANINGFUL).sum(axis=0)
        self.missing = missing if self.missing is None else self.missing + missing
        self.not_meaningful = (
            not_meaningful if self.not_meaningful is None else self.not_meaningful + not_meaningful
        )
        self._probabilities.append(batch.probability[scored])

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        from accunode_cli.scoring import RATINGS, RISK_LEVELS

        probabilities = np.concatenate(self._probabilities) if self._probabilities else np.empty(0)
        scored = self.scored
        k = len(self.ratio_names)
        missing = self.missing if self.missing is not None else np.zeros(k, dtype=np.int64)
        not_meaningful = (
            self.not_meaningful if self.not_meaningful is not None else np.zeros(k, dtype=np.int64)
        )
        return {
            "kind": self.kind,
            "model_version": self.model_version,
            "rows": self.rows,
            "scored": scored,
            "rejected": self.rejected,
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
            "mean_probability": float(probabilities.mean()) if scored else None,
            "median_probability": float(np.median(probabilities)) if scored else None,
            "missing_by_ratio": {
                name: int(count) for name, count in zip(self.ratio_names, missing, strict=True)
            },
            "not_meaningful_by_ratio": {
                name: int(count)
                for name, count in zip(self.ratio_names, not_meaningful, strict=True)
            },
        }
