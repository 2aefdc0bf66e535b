"""The population a model was built on, kept as shares of the model's own bins.

Drift monitoring compares the population a model scores today with the one it was trained on.
Training stores that population as data (``drift_reference.json``): for each ratio the shares
of the scorecard's monotone bins, plus the missing and not-meaningful shares; for the score,
the shares of ten bins whose edges are the deciles of the training log-odds; and the mean PD.
The file is written by ``train_model`` and hashed in the manifest like every other artifact,
but it does not enter the model version: it changes no score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accunode_cli.scoring.cleaning import INVALID, MISSING, NOT_MEANINGFUL

__all__ = [
    "REFERENCE_FILE",
    "SCORE_BINS",
    "ratio_bin_counts",
    "score_bin_counts",
    "score_edges",
    "population_reference",
]

REFERENCE_FILE = "drift_reference.json"
SCORE_BINS = 10


def ratio_bin_counts(edges: np.ndarray, values: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Count rows per bin: the ``len(edges) + 1`` value bins (e_{i-1}, e_i], missing, NM.

    Invalid cells are not counted (their rows are not scored).
    """
    k = edges.size
    codes = np.searchsorted(edges, np.nan_to_num(values, nan=0.0), side="left")
    codes = np.where(status == MISSING, k + 1, codes)
    codes = np.where(status == NOT_MEANINGFUL, k + 2, codes)
    codes = np.where(status == INVALID, k + 3, codes)
    return np.bincount(codes, minlength=k + 4)[: k + 3]


def score_bin_counts(edges: np.ndarray, log_odds: np.ndarray) -> np.ndarray:
    """Count scored rows per score bin (unscored rows, NaN, are left out)."""
    scored = log_odds[~np.isnan(log_odds)]
    return np.bincount(np.searchsorted(edges, scored, side="left"), minlength=edges.size + 1)


def score_edges(log_odds: np.ndarray) -> np.ndarray:
    """Return the inner decile edges of the scored log-odds (the score's bins)."""
    scored = log_odds[~np.isnan(log_odds)]
    inner = np.linspace(0.0, 1.0, SCORE_BINS + 1)[1:-1]
    return np.unique(np.quantile(scored, inner))


def _shares(counts: np.ndarray, total: int) -> list[float]:
    return [float(c) / total for c in counts] if total else [0.0] * counts.size


def population_reference(
    names: tuple[str, ...],
    scorecard: dict[str, Any],
    values: np.ndarray,
    status: np.ndarray,
    log_odds: np.ndarray,
) -> dict[str, Any]:
    """Describe a cleaned population (values and status (n, k), log-odds) on the model's bins."""
    rows = int(values.shape[0])
    ratios: dict[str, Any] = {}
    for j, name in enumerate(names):
        edges = np.asarray(scorecard["features"][j]["edges"], dtype=np.float64)
        shares = _shares(ratio_bin_counts(edges, values[:, j], status[:, j]), rows)
        ratios[name] = {
            "edges": edges.tolist(),
            "shares": shares[:-2],
            "missing": shares[-2],
            "not_meaningful": shares[-1],
        }
    edges = score_edges(log_odds)
    scored = int((~np.isnan(log_odds)).sum())
    probability = np.exp(-np.logaddexp(0.0, -log_odds[~np.isnan(log_odds)]))
    return {
        "description": "shares of the model's bins in the table it was trained on",
        "rows": rows,
        "ratios": ratios,
        "score": {
            "edges": edges.tolist(),
            "shares": _shares(score_bin_counts(edges, log_odds), scored),
        },
        "mean_probability": float(probability.mean()) if scored else None,
    }
