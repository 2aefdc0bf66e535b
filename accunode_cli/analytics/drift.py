"""Population drift: the PSI of every ratio and of the score, on the model's own bins.

PSI = sum over bins of (current - reference) * ln(current / reference), with shares floored at
1e-4 so an empty bin counts without dividing by zero. A ratio's bins are the scorecard's
monotone bins plus one for missing and one for not meaningful; the score's are the deciles of
the training log-odds. Both come from the model's ``drift_reference.json``, which also holds
the training population's shares (the default reference). Populations are counted batch by
batch, so any number of rows takes constant memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from accunode_cli.errors import ModelError
from accunode_cli.scoring import INVALID, PDModel
from accunode_cli.scoring.reference import ratio_bin_counts, score_bin_counts
from accunode_cli.scoring.results import probability_from_log_odds

_SUM_BLOCK = 4096  # rows per block of the PD sum (fixed, so every batching sums alike)

__all__ = [
    "STABLE_BELOW",
    "SHIFTED_ABOVE",
    "psi",
    "drift_status",
    "Population",
    "Shares",
    "BinShare",
    "RatioDrift",
    "ScoreDrift",
    "DriftReport",
    "population_of",
    "drift_report",
    "drift_of_batches",
    "drift_of_rows",
]

STABLE_BELOW = 0.10
SHIFTED_ABOVE = 0.25
SHARE_FLOOR = 1e-4


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Return the population stability index of two share vectors over the same bins."""
    r = np.maximum(np.asarray(reference, dtype=np.float64), SHARE_FLOOR)
    c = np.maximum(np.asarray(current, dtype=np.float64), SHARE_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def drift_status(value: float) -> str:
    """Say stable (< 0.10), watch (0.10 to 0.25) or shifted (> 0.25)."""
    if value < STABLE_BELOW:
        return "stable"
    return "watch" if value <= SHIFTED_ABOVE else "shifted"


def _reference_of(model: PDModel) -> dict[str, Any]:
    if model.reference is None:
        raise ModelError(
            f"the {model.kind} model {model.version} has no training distribution "
            "(drift_reference.json); retrain it with `accunode model train`",
            details={"model_version": model.version},
        )
    return model.reference


@dataclass(frozen=True)
class Shares:
    """One population on the model's bins: per ratio (value bins, missing, NM), score bins."""

    rows: int
    ratios: dict[str, np.ndarray]
    score: np.ndarray
    mean_probability: float | None

    @classmethod
    def of_training(cls, model: PDModel) -> Shares:
        """Return the training population stored with the model."""
        reference = _reference_of(model)
        ratios = {
            name: np.asarray([*part["shares"], part["missing"], part["not_meaningful"]])
            for name, part in reference["ratios"].items()
        }
        return cls(
            int(reference["rows"]),
            ratios,
            np.asarray(reference["score"]["shares"], dtype=np.float64),
            reference["mean_probability"],
        )


@dataclass
class Population:
    """Counts of a population on a model's bins, built one batch at a time."""

    model: PDModel
    rows: int = 0
    rejected: int = 0
    probability_sum: float = 0.0
    scored: int = 0
    ratio_counts: dict[str, np.ndarray] = field(default_factory=dict)
    score_counts: np.ndarray | None = None

    def __post_init__(self) -> None:
        reference = _reference_of(self.model)
        self._edges = {
            name: np.asarray(part["edges"], dtype=np.float64)
            for name, part in reference["ratios"].items()
        }
        self._score_edges = np.asarray(reference["score"]["edges"], dtype=np.float64)
        self.ratio_counts = {n: np.zeros(e.size + 3, np.int64) for n, e in self._edges.items()}
        self.score_counts = np.zeros(self._score_edges.size + 1, np.int64)
        self._pending: list[np.ndarray] = []  # probabilities not yet summed into a full block

    def _add_probabilities(self, probability: np.ndarray) -> None:
        """Sum PDs in fixed blocks of rows, so the total does not depend on how rows are batched."""
        self._pending.append(probability)
        if sum(part.size for part in self._pending) < _SUM_BLOCK:
            return
        joined = np.concatenate(self._pending)
        whole = joined.size - joined.size % _SUM_BLOCK
        for start in range(0, whole, _SUM_BLOCK):
            self.probability_sum += math.fsum(joined[start : start + _SUM_BLOCK].tolist())
        self._pending = [joined[whole:]]

    def add(self, columns: Mapping[str, Any]) -> None:
        """Count one batch of raw ratio columns; rows with a cell that is no number are skipped."""
        cleaned = self.model.clean_columns(columns)
        if not cleaned or len(cleaned[0]) == 0:
            return
        bad = np.zeros(len(cleaned[0]), dtype=bool)
        for column in cleaned:
            bad |= column.status == INVALID
        if bad.any():
            self.rejected += int(bad.sum())
            cleaned = [type(c)(c.values[~bad], c.status[~bad]) for c in cleaned]
        log_odds, _, _ = self.model.score_clean(cleaned)
        for name, column in zip(self.model.ratio_names, cleaned, strict=True):
            self.ratio_counts[name] += ratio_bin_counts(
                self._edges[name], column.values, column.status
            )
        assert self.score_counts is not None
        self.score_counts += score_bin_counts(self._score_edges, log_odds)
        self.rows += log_odds.shape[0]
        self.scored += log_odds.shape[0]
        self._add_probabilities(probability_from_log_odds(log_odds))

    def shares(self) -> Shares:
        """Return the counted population as shares."""
        assert self.score_counts is not None
        total = max(self.rows, 1)
        pending = [value for part in self._pending for value in part.tolist()]
        probability_sum = self.probability_sum + math.fsum(pending)
        return Shares(
            self.rows,
            {name: counts / total for name, counts in self.ratio_counts.items()},
            self.score_counts / max(self.scored, 1),
            probability_sum / self.scored if self.scored else None,
        )


def population_of(model: PDModel, batches: Iterable[Mapping[str, Any]]) -> Population:
    """Count every batch of raw ratio columns into a Population (constant memory)."""
    population = Population(model)
    for columns in batches:
        population.add(columns)
    return population


@dataclass(frozen=True)
class BinShare:
    """One bin's label and its reference and current shares."""

    bin: str
    reference: float
    current: float


@dataclass(frozen=True)
class RatioDrift:
    """The drift of one ratio."""

    name: str
    label: str
    psi: float
    status: str
    missing: tuple[float, float]  # (reference, current) shares
    not_meaningful: tuple[float, float]
    bins: list[BinShare]


@dataclass(frozen=True)
class ScoreDrift:
    """The drift of the score (the model's log-odds, on the training deciles)."""

    psi: float
    status: str
    bins: list[BinShare]


@dataclass(frozen=True)
class DriftReport:
    """Drift of a current population against a reference, ratio by ratio and for the score."""

    kind: str
    model_version: str
    reference: str
    rows: dict[str, int]
    rejected_rows: int
    ratios: list[RatioDrift]
    score: ScoreDrift
    mean_probability: dict[str, float | None]

    @property
    def shifted(self) -> list[str]:
        """Return the names of the ratios marked shifted."""
        return [ratio.name for ratio in self.ratios if ratio.status == "shifted"]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return asdict(self)


def _number(value: float) -> str:
    return f"{value:.3g}"


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all values"]
    labels = [f"<= {_number(edges[0])}"]
    labels += [f"{_number(a)} to {_number(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return labels + [f"> {_number(edges[-1])}"]


def _bins(labels: list[str], reference: np.ndarray, current: np.ndarray) -> list[BinShare]:
    return [
        BinShare(label, float(r), float(c))
        for label, r, c in zip(labels, reference, current, strict=True)
    ]


def drift_report(
    model: PDModel,
    current: Population,
    *,
    reference: Population | None = None,
    reference_name: str | None = None,
) -> DriftReport:
    """Compare a counted population with a reference one (default: the training population)."""
    ref = reference.shares() if reference is not None else Shares.of_training(model)
    cur = current.shares()
    stored = _reference_of(model)
    ratios = []
    for spec in model.ratios:
        r, c = ref.ratios[spec.name], cur.ratios[spec.name]
        value = psi(r, c)
        labels = _bin_labels(stored["ratios"][spec.name]["edges"])
        ratios.append(
            RatioDrift(
                spec.name,
                spec.label,
                value,
                drift_status(value),
                (float(r[-2]), float(c[-2])),
                (float(r[-1]), float(c[-1])),
                _bins([*labels, "missing", "not meaningful"], r, c),
            )  # fmt: skip
        )
    edges = [float(probability_from_log_odds(np.asarray([e]))[0]) for e in stored["score"]["edges"]]
    score_psi = psi(ref.score, cur.score)
    score_labels = [f"PD {label} %" for label in _bin_labels([e * 100 for e in edges])]
    name = reference_name or f"training data of {model.version}"
    return DriftReport(
        kind=model.kind,
        model_version=model.version,
        reference=name,
        rows={"reference": ref.rows, "current": cur.rows},
        rejected_rows=current.rejected,
        ratios=ratios,
        score=ScoreDrift(
            score_psi, drift_status(score_psi), _bins(score_labels, ref.score, cur.score)
        ),
        mean_probability={"reference": ref.mean_probability, "current": cur.mean_probability},
    )


def drift_of_batches(
    model: PDModel,
    batches: Iterable[Mapping[str, Any]],
    *,
    reference: Iterable[Mapping[str, Any]] | None = None,
    reference_name: str | None = None,
) -> DriftReport:
    """Return the drift of batches of raw ratio columns (reference: training, or batches)."""
    current = population_of(model, batches)
    base = population_of(model, reference) if reference is not None else None
    return drift_report(model, current, reference=base, reference_name=reference_name)


def drift_of_rows(
    model: PDModel, rows: Iterable[Mapping[str, Any]], *, batch_size: int = 10_000
) -> DriftReport:
    """Return the drift of result rows (dicts holding the ratios), e.g. a finished bulk job's."""

    def batches() -> Iterator[dict[str, list[Any]]]:
        chunk: list[Mapping[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == batch_size:
                yield {name: [r.get(name) for r in chunk] for name in model.ratio_names}
                chunk = []
        if chunk:
            yield {name: [r.get(name) for r in chunk] for name in model.ratio_names}

    return drift_of_batches(model, batches())
