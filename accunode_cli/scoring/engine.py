"""The scoring engine: load a verified model folder and score columns of ratios.

Every member of the ensemble is additive in the ratios (a scorecard, a LightGBM forest with one
feature per tree, a monotone spline model), and so are the blend and the Platt calibration. The
loader therefore compiles the whole ensemble into one function per ratio:

    log_odds = base + sum_j contribution_j,   contribution_j = F_j(x_j) - F_j(reference_j)

where ``reference_j`` is the training median of ratio j and ``base`` is the log-odds of a company
whose every ratio sits at its reference. ``F_j`` is a step function (scorecard bins and tree
splits) plus a piecewise-linear part (splines), with one constant for a missing value and one
for a value that is not meaningful. Scoring is then a few ``searchsorted`` calls per ratio.

A recalibrated model (``recalibration.json``, see ``accunode_cli.scoring.recalibration``) maps
the log-odds to ``a + b * log_odds``; the loader folds that into the compiled form: ``b``
scales every ``F_j`` and the base, ``a`` adds to the base. Contributions stay exact.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from accunode_cli.errors import ArtifactIntegrityError, ModelError
from accunode_cli.scoring import artifacts
from accunode_cli.scoring.cleaning import (
    INVALID,
    MISSING,
    NOT_MEANINGFUL,
    CleanColumn,
    apply_floor,
    clean_column,
)
from accunode_cli.scoring.ratios import RatioSpec, ratio_specs
from accunode_cli.scoring.reference import REFERENCE_FILE
from accunode_cli.scoring.results import Score, ScoredBatch
from accunode_cli.scoring.trees import forest_step_functions, parse_lightgbm_text

__all__ = ["RatioFunction", "PDModel", "load_model", "compile_members", "recalibrate_compiled"]


@dataclass(frozen=True)
class RatioFunction:
    """F_j of one ratio: a step part, an optional piecewise-linear part, two special values."""

    thresholds: np.ndarray
    steps: np.ndarray
    knots: np.ndarray | None
    knot_values: np.ndarray | None
    missing: float
    not_meaningful: float
    reference: float = 0.0  # the ratio's reference value (training median)
    at_reference: float = 0.0  # F_j(reference): contributions are measured from here

    def __call__(self, values: np.ndarray, status: np.ndarray) -> np.ndarray:
        out = self.steps[np.searchsorted(self.thresholds, values, side="left")]
        if self.knots is not None and self.knot_values is not None:
            out = out + np.interp(values, self.knots, self.knot_values)
        out = np.where(status == MISSING, self.missing, out)
        out = np.where(status == NOT_MEANINGFUL, self.not_meaningful, out)
        return np.where(status == INVALID, np.nan, out)


def _scorecard_part(feature: dict[str, Any], probes: np.ndarray) -> np.ndarray:
    woe = np.asarray(feature["woe"], dtype=np.float64)
    index = np.searchsorted(np.asarray(feature["edges"], dtype=np.float64), probes, side="left")
    return float(feature["coefficient"]) * woe[index]


def compile_members(
    specs: tuple[RatioSpec, ...],
    ensemble: dict[str, Any],
    scorecard: dict[str, Any],
    forest_text: str,
    spline: dict[str, Any] | None,
) -> tuple[float, list[RatioFunction]]:
    """Compile the blended, calibrated members into (base log-odds, one function per ratio)."""
    weights = ensemble["weights"]
    slope = float(ensemble["calibration"]["slope"])
    w_sc, w_gbm, w_sp = (
        slope * float(weights.get(m, 0.0)) for m in ("scorecard", "lightgbm", "spline")
    )
    names, trees = parse_lightgbm_text(forest_text)
    if tuple(names) != tuple(spec.name for spec in specs):
        raise ArtifactIntegrityError("the LightGBM model's features do not match the manifest")
    gbm_constant, steps = forest_step_functions(trees, len(specs))
    base = float(ensemble["calibration"]["intercept"])
    base += w_sc * float(scorecard["intercept"]) + w_gbm * gbm_constant
    if spline is not None:
        base += w_sp * float(spline["intercept"])
    functions = []
    for j, spec in enumerate(specs):
        card = scorecard["features"][j]
        cuts = np.union1d(np.asarray(card["edges"], dtype=np.float64), steps[j].thresholds)
        probes = np.append(cuts, np.inf)
        gbm_values = steps[j].values[np.searchsorted(steps[j].thresholds, probes, side="left")]
        values = w_sc * _scorecard_part(card, probes) + w_gbm * gbm_values
        missing = w_sc * card["coefficient"] * card["woe_missing"] + w_gbm * steps[j].missing
        not_meaningful = (
            w_sc * card["coefficient"] * card["woe_not_meaningful"] + w_gbm * steps[j].missing
        )
        knots = knot_values = None
        if spline is not None:
            part = spline["features"][j]
            knots = np.asarray(part["knots"], dtype=np.float64)
            knot_values = w_sp * np.asarray(part["values"], dtype=np.float64)
            missing += w_sp * part["missing"]
            not_meaningful += w_sp * part["not_meaningful"]
        function = RatioFunction(cuts, values, knots, knot_values, missing, not_meaningful)
        reference = float(ensemble["reference"][spec.name])
        at_reference = float(function(np.array([reference]), np.zeros(1, dtype=np.int8))[0])
        functions.append(replace(function, reference=reference, at_reference=at_reference))
        base += at_reference
    return base, functions


def recalibrate_compiled(
    base: float, functions: list[RatioFunction], intercept: float, slope: float
) -> tuple[float, list[RatioFunction]]:
    """Fold ``log_odds -> intercept + slope * log_odds`` into the compiled base and functions."""
    scaled = [
        replace(
            f,
            steps=slope * f.steps,
            knot_values=None if f.knot_values is None else slope * f.knot_values,
            missing=slope * f.missing,
            not_meaningful=slope * f.not_meaningful,
            at_reference=slope * f.at_reference,
        )
        for f in functions
    ]
    return intercept + slope * base, scaled


@dataclass
class PDModel:
    """A loaded, verified model of one kind; scores columns of raw ratio cells."""

    kind: str
    version: str
    ratios: tuple[RatioSpec, ...]
    manifest: dict[str, Any]
    base_log_odds: float
    functions: list[RatioFunction] = field(repr=False)
    # The training population on the model's bins (drift_reference.json); None for a model
    # trained before that file existed.
    reference: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def ratio_names(self) -> tuple[str, ...]:
        """Return the model's ratio names in order."""
        return tuple(spec.name for spec in self.ratios)

    def score_clean(self, columns: list[CleanColumn]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score cleaned columns; return (log_odds, contributions (n, k), status (n, k))."""
        n = len(columns[0]) if columns else 0
        contributions = np.empty((n, len(self.functions)), dtype=np.float64)
        status = np.empty((n, len(self.functions)), dtype=np.int8)
        log_odds = np.full(n, self.base_log_odds)
        for j, (function, column) in enumerate(zip(self.functions, columns, strict=True)):
            contributions[:, j] = function(column.values, column.status) - function.at_reference
            status[:, j] = column.status
            log_odds = log_odds + contributions[:, j]  # one fixed order: batch and row agree
        return log_odds, contributions, status

    def clean_columns(self, columns: Mapping[str, Any]) -> list[CleanColumn]:
        """Clean raw columns keyed by ratio name, in model order; an absent ratio is missing."""
        lengths = {len(column) for column in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns differ in length: {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        cleaned = []
        for spec in self.ratios:
            if spec.name in columns:
                cleaned.append(apply_floor(clean_column(columns[spec.name]), spec.min_meaningful))
            else:
                cleaned.append(CleanColumn(np.full(n, np.nan), np.full(n, MISSING, dtype=np.int8)))
        return cleaned

    def score_columns(self, columns: Mapping[str, Any]) -> ScoredBatch:
        """Clean and score raw columns keyed by ratio name; an absent ratio is all missing."""
        log_odds, contributions, status = self.score_clean(self.clean_columns(columns))
        return ScoredBatch.build(self, log_odds, contributions, status, columns)

    def score_record_batch(self, batch: Any) -> ScoredBatch:
        """Score a pyarrow RecordBatch (or Table) whose columns carry the ratio names."""
        names = set(batch.schema.names)
        return self.score_columns(
            {name: batch.column(name) for name in self.ratio_names if name in names}
        )

    def score_one(self, ratios: Mapping[str, Any]) -> Score:
        """Score one company; gives the batch path's numbers to the last bit."""
        columns = {name: [ratios.get(name)] for name in self.ratio_names}
        return self.score_columns(columns).row(0)


def load_model(kind: str, model_dir: str | Path | None = None, *, parent: bool = False) -> PDModel:
    """Load and verify a model folder (default: the one shipped in the package).

    With ``parent=True`` a recalibrated model is loaded without its last recalibration step:
    the model it was recalibrated from (same files, the parent's version).
    """
    from accunode_cli.scoring.recalibration import FILE, compose

    specs = ratio_specs(kind)
    folder = Path(model_dir) if model_dir is not None else artifacts.shipped_model_dir(kind)
    manifest = artifacts.read_manifest(folder)
    files = artifacts.read_verified(folder, manifest)
    if manifest.get("kind") != kind:
        raise ArtifactIntegrityError(
            f"{folder} holds a {manifest.get('kind')!r} model, not {kind!r}",
            details={"file": artifacts.MANIFEST},
        )
    try:
        base, functions = compile_members(
            specs,
            json.loads(files["ensemble.json"]),
            json.loads(files["scorecard.json"]),
            files["lightgbm.txt"].decode(),
            json.loads(files["spline.json"]) if "spline.json" in files else None,
        )
        version = manifest["version"]
        if FILE in files:
            steps = list(json.loads(files[FILE])["steps"])
            if parent:
                steps, version = steps[:-1], manifest["parent"]["version"]
            base, functions = recalibrate_compiled(base, functions, *compose(steps))
        elif parent:
            raise ModelError(f"the model in {folder} is not recalibrated: it has no parent")
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise ArtifactIntegrityError(
            f"the model in {folder} is incomplete or malformed: {type(exc).__name__}"
        ) from exc
    if not math.isfinite(base):
        raise ArtifactIntegrityError(f"the model in {folder} has a non-finite base score")
    reference = files.get(REFERENCE_FILE)
    return PDModel(
        kind, version, specs, manifest, base, functions,
        json.loads(reference) if reference is not None else None,
    )  # fmt: skip
