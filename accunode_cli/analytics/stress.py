"""Stress testing: shock the ratios, rescore, and compare each row and the portfolio.

Shocks apply to cells that hold a number; missing and not-meaningful cells stay as they are.
A percentage ratio moves by points, never below its meaningful floor (a long-term debt /
capital shocked below 0 stays at 0 rather than becoming "not meaningful"). A multiple is
scaled so that every value moves the same way: x * f for x >= 0 and x / f for x < 0, so a
factor of 0.7 on interest coverage takes 5x to 3.5x and -2x to -2.9x (never towards zero).
The models are monotone, so shocks that each move a ratio in its risky direction can never
lower a PD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accunode_cli.analytics.scenarios import Scenario, Shock, fold_sector
from accunode_cli.scoring import OK, RATINGS, RISK_LEVELS, CleanColumn, PDModel, ScoredBatch

__all__ = ["shock_columns", "stress_columns", "stress_one", "StressSummary", "stress_table"]


def _sector_masks(sector: Any, scenario: Scenario, n: int) -> dict[str, np.ndarray]:
    """Return, per sector of the scenario, which rows belong to it (folded names match)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from accunode_cli.scoring.cleaning import strings_array

    if sector is None or not scenario.sectors:
        return {}
    if isinstance(sector, pa.ChunkedArray):
        sector = sector.combine_chunks()
    if not isinstance(sector, pa.Array):
        sector = strings_array(["" if v is None else str(v) for v in sector])
    if len(sector) != n:
        raise ValueError("the sector column differs in length from the ratios")
    text = pc.fill_null(sector.cast(pa.string()), strings_array([""])[0])
    encoded = pc.dictionary_encode(text)
    keys = np.asarray([fold_sector(v) for v in encoded.dictionary.to_pylist()], dtype=object)
    indices = encoded.indices
    codes = np.frombuffer(indices.buffers()[1], dtype=np.int32)[indices.offset : indices.offset + n]
    return {key: np.isin(codes, np.flatnonzero(keys == key)) for key in scenario.sectors}


def _shock_arrays(
    scenario: Scenario, name: str, masks: dict[str, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    base = scenario.shocks.get(name, Shock())
    points, factor = np.full(n, base.points), np.full(n, base.factor)
    for sector, rows in masks.items():
        shock = scenario.sectors[sector].get(name)
        if shock is not None:
            points[rows], factor[rows] = shock.points, shock.factor
    return points, factor


def shock_columns(
    model: PDModel, cleaned: list[CleanColumn], scenario: Scenario, *, sector: Any = None
) -> list[CleanColumn]:
    """Return the cleaned columns moved by the scenario's shocks (per sector when given)."""
    n = len(cleaned[0]) if cleaned else 0
    masks = _sector_masks(sector, scenario, n)
    out = []
    for spec, column in zip(model.ratios, cleaned, strict=True):
        points, factor = _shock_arrays(scenario, spec.name, masks, n)
        ok = column.status == OK
        values = column.values
        if spec.unit == "percent":
            moved = values + points
            if spec.min_meaningful is not None:
                moved = np.maximum(moved, spec.min_meaningful)
        else:
            moved = np.where(values >= 0, values * factor, values / factor)
        out.append(CleanColumn(np.where(ok, moved, values), column.status))
    return out


def stress_columns(
    model: PDModel, columns: Mapping[str, Any], scenario: Scenario, *, sector: Any = None
) -> tuple[ScoredBatch, ScoredBatch]:
    """Score raw ratio columns as they are and under the scenario: (baseline, stressed)."""
    cleaned = model.clean_columns(columns)
    log_odds, contributions, status = model.score_clean(cleaned)
    baseline = ScoredBatch.build(model, log_odds, contributions, status, columns)
    shocked = shock_columns(model, cleaned, scenario, sector=sector)
    log_odds, contributions, _ = model.score_clean(shocked)
    stressed = ScoredBatch.build(model, log_odds, contributions, status, columns)
    return baseline, stressed


def stress_table(baseline: ScoredBatch, stressed: ScoredBatch) -> Any:
    """Return the per-row output columns (pyarrow Table): baseline and stressed results."""
    import pyarrow as pa

    before = baseline.to_arrow(dictionary=True)
    after = stressed.to_arrow(dictionary=True)
    columns, names = [], []
    for prefix, table in (("baseline", before), ("stressed", after)):
        for name in ("probability", "risk_level", "implied_rating"):
            columns.append(table.column(name))
            names.append(f"{prefix}_{name}")
    columns.append(before.column("error"))
    names.append("error")
    return pa.Table.from_arrays(columns, names=names)


@dataclass
class StressSummary:
    """The portfolio before and after a scenario, built batch by batch."""

    kind: str
    model_version: str
    scenario: Scenario
    rows: int = 0
    scored: int = 0
    baseline_sum: float = 0.0
    stressed_sum: float = 0.0
    rose: int = 0
    fell: int = 0
    migration: np.ndarray = field(default_factory=lambda: np.zeros((7, 7), np.int64))
    levels: np.ndarray = field(default_factory=lambda: np.zeros((2, 4), np.int64))

    def add(self, baseline: ScoredBatch, stressed: ScoredBatch) -> None:
        """Count one batch."""
        scored = baseline.rating_codes >= 0
        before, after = baseline.probability[scored], stressed.probability[scored]
        self.rows += len(baseline)
        self.scored += int(scored.sum())
        self.baseline_sum += float(before.sum())
        self.stressed_sum += float(after.sum())
        self.rose += int((after > before).sum())
        self.fell += int((after < before).sum())
        cells = baseline.rating_codes[scored].astype(np.int64) * 7 + stressed.rating_codes[scored]
        self.migration += np.bincount(cells, minlength=49).reshape(7, 7)
        self.levels[0] += np.bincount(baseline.risk_codes[scored], minlength=4)
        self.levels[1] += np.bincount(stressed.risk_codes[scored], minlength=4)

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""

        def mean(total: float) -> float | None:
            return total / self.scored if self.scored else None

        return {
            "kind": self.kind,
            "model_version": self.model_version,
            "scenario": self.scenario.to_dict(),
            "rows": self.rows,
            "scored": self.scored,
            "rejected": self.rows - self.scored,
            "mean_probability": {
                "baseline": mean(self.baseline_sum),
                "stressed": mean(self.stressed_sum),
            },
            "expected_defaults": {"baseline": self.baseline_sum, "stressed": self.stressed_sum},
            "rows_pd_rose": self.rose,
            "rows_pd_fell": self.fell,
            "risk_levels": {
                stage: dict(zip(RISK_LEVELS, (int(v) for v in self.levels[i]), strict=True))
                for i, stage in enumerate(("baseline", "stressed"))
            },
            "migration": {
                "ratings": list(RATINGS),
                "counts": self.migration.tolist(),  # rows: baseline rating, columns: stressed
            },
        }


def stress_one(
    model: PDModel,
    ratios: Mapping[str, Any],
    scenario: Scenario,
    *,
    sector: str | None = None,
    horizon: int = 1,
) -> dict[str, Any]:
    """Score one company as it is and under a scenario (the API's what-if); store nothing."""
    from accunode_cli.analytics.term import cumulative_pds

    columns = {name: [ratios.get(name)] for name in model.ratio_names}
    baseline, stressed = stress_columns(
        model, columns, scenario, sector=None if sector is None else [sector]
    )
    sides: dict[str, Any] = {}
    for label, batch in (("baseline", baseline), ("stressed", stressed)):
        score = batch.row(0).to_dict()
        pds = cumulative_pds(batch.log_odds, horizon)[0]
        score["cumulative_pd"] = {f"{t + 1}y": float(pd) for t, pd in enumerate(pds)}
        sides[label] = {key: score[key] for key in _SIDE_KEYS}
    folded = fold_sector(sector) if sector is not None else None
    overrides = scenario.sectors.get(folded, {}) if folded is not None else {}
    applied = {
        name: overrides.get(name, scenario.shocks.get(name, Shock())) for name in model.ratio_names
    }
    return {
        "kind": model.kind,
        "model_version": model.version,
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "shocks": {n: shock.to_dict() for n, shock in applied.items() if not shock.is_zero},
        },
        **sides,
        "probability_change": sides["stressed"]["probability"] - sides["baseline"]["probability"],
    }


_SIDE_KEYS = ("probability", "log_odds", "risk_level", "implied_rating", "contributions",
              "flags", "cumulative_pd")  # fmt: skip
