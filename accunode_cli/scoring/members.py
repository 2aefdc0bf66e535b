"""Fit the ensemble's members on cleaned ratios (training only; imports scipy and lightgbm).

Every member is additive in the ratios and monotone in each ratio's risk direction:

* ``scorecard``: monotone weight-of-evidence bins (pooled adjacent violators), one bin for
  missing and one for not meaningful, and a logistic regression on the WoE values with
  non-negative coefficients;
* ``lightgbm``: gradient-boosted trees with monotone constraints and one feature per tree
  (interaction constraints), so the forest is a sum of one-dimensional step functions;
* ``spline``: a logistic model on monotone piecewise-linear (ramp) splines of each ratio with
  non-negative ramp coefficients, plus missing and not-meaningful indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from accunode_cli.errors import ModelError
from accunode_cli.scoring.cleaning import MISSING, NOT_MEANINGFUL, OK
from accunode_cli.scoring.logistic import fit_logistic
from accunode_cli.scoring.ratios import RatioSpec
from accunode_cli.scoring.trees import forest_step_functions, parse_lightgbm_text

__all__ = ["Cleaned", "fit_scorecard", "scorecard_log_odds", "fit_lightgbm", "fit_spline",
           "spline_log_odds", "forest_is_monotone"]  # fmt: skip

_SHRINK = 50.0  # pseudo-rows pulling a sparse special bin's WoE towards zero


@dataclass(frozen=True)
class Cleaned:
    """A cleaned design: values (n, k) NaN unless OK, status (n, k), outcomes y (n)."""

    values: np.ndarray
    status: np.ndarray
    y: np.ndarray

    def take(self, rows: np.ndarray) -> Cleaned:
        """Return the subset of rows."""
        return Cleaned(self.values[rows], self.status[rows], self.y[rows])


def _woe(bad: np.ndarray, good: np.ndarray, total_bad: float, total_good: float) -> np.ndarray:
    return np.log((bad + 0.5) / (total_bad + 0.5)) - np.log((good + 0.5) / (total_good + 0.5))


def _pool_adjacent_violators(rate: np.ndarray, weight: np.ndarray) -> list[list[int]]:
    """Group bins so the pooled rates never decrease (isotonic regression on bins)."""
    blocks: list[list[int]] = []
    rates: list[float] = []
    weights: list[float] = []
    for i in range(rate.shape[0]):
        blocks.append([i])
        rates.append(float(rate[i]))
        weights.append(float(weight[i]))
        while len(rates) > 1 and rates[-2] >= rates[-1]:
            w = weights[-2] + weights[-1]
            r = (rates[-2] * weights[-2] + rates[-1] * weights[-1]) / w
            blocks[-2:] = [blocks[-2] + blocks[-1]]
            rates[-2:] = [r]
            weights[-2:] = [w]
    return blocks


def _monotone_bins(x: np.ndarray, y: np.ndarray, direction: int, min_share: float) -> np.ndarray:
    """Return ascending edges of bins (e_{i-1}, e_i] with default rates monotone in direction."""
    candidates = np.unique(np.quantile(x, np.linspace(0.04, 0.96, 24), method="lower"))
    while True:
        index = np.searchsorted(candidates, x, side="left")
        count = np.bincount(index, minlength=candidates.size + 1).astype(float)
        bad = np.bincount(index, weights=y, minlength=candidates.size + 1)
        rate = (bad + 0.5) / (count + 1.0)
        order = slice(None) if direction == 1 else slice(None, None, -1)
        blocks = _pool_adjacent_violators(rate[order], count[order])
        if direction == -1:
            blocks = [[candidates.size - i for i in block[::-1]] for block in blocks[::-1]]
        # keep the right edge of every block except the last
        edges = np.array([candidates[block[-1]] for block in blocks[:-1]])
        small = [i for i, block in enumerate(blocks) if count[block].sum() < min_share * x.size]
        if edges.size == candidates.size and not small:
            return edges
        if small and edges.size == candidates.size:
            drop = min(small[0], edges.size - 1)
            edges = np.delete(edges, drop)
        candidates = edges
        if candidates.size == 0:
            return candidates


def fit_scorecard(specs: tuple[RatioSpec, ...], data: Cleaned) -> dict[str, Any]:
    """Fit the monotone WoE scorecard; return its JSON-ready description."""
    y = data.y
    total_bad, total_good = float(y.sum()), float((1 - y).sum())
    features = []
    design = np.zeros(data.values.shape)
    for j, spec in enumerate(specs):
        ok = data.status[:, j] == OK
        edges = _monotone_bins(data.values[ok, j], y[ok], spec.direction, min_share=0.03)
        index = np.searchsorted(edges, data.values[ok, j], side="left")
        count = np.bincount(index, minlength=edges.size + 1).astype(float)
        bad = np.bincount(index, weights=y[ok], minlength=edges.size + 1)
        woe = _woe(bad, count - bad, total_bad, total_good)
        special = {}
        for label, code in (("woe_missing", MISSING), ("woe_not_meaningful", NOT_MEANINGFUL)):
            rows = data.status[:, j] == code
            n, b = float(rows.sum()), float(y[rows].sum())
            special[label] = float(_woe(np.array(b), np.array(n - b), total_bad, total_good))
            special[label] *= n / (n + _SHRINK)
        column = np.full(y.shape[0], special["woe_missing"])
        column[ok] = woe[index]
        column[data.status[:, j] == NOT_MEANINGFUL] = special["woe_not_meaningful"]
        design[:, j] = column
        features.append({
            "name": spec.name, "direction": spec.direction, "edges": edges.tolist(),
            "woe": woe.tolist(), "counts": count.astype(int).tolist(),
            "defaults": bad.astype(int).tolist(), **special,
        })  # fmt: skip
    intercept, coefficients = fit_logistic(design, y, nonnegative=np.ones(len(specs), bool))
    for feature, coefficient in zip(features, coefficients, strict=True):
        feature["coefficient"] = float(coefficient)
    return {"intercept": intercept, "features": features}


def scorecard_log_odds(card: dict[str, Any], data: Cleaned) -> np.ndarray:
    """Return the scorecard's log-odds for cleaned rows."""
    total = np.full(data.y.shape[0], float(card["intercept"]))
    for j, feature in enumerate(card["features"]):
        woe = np.asarray(feature["woe"])
        column = woe[np.searchsorted(np.asarray(feature["edges"]), data.values[:, j], side="left")]
        column = np.where(data.status[:, j] == MISSING, feature["woe_missing"], column)
        column = np.where(
            data.status[:, j] == NOT_MEANINGFUL, feature["woe_not_meaningful"], column
        )
        total = total + feature["coefficient"] * column
    return total


def fit_lightgbm(
    specs: tuple[RatioSpec, ...], train: Cleaned, valid: Cleaned, *, seed: int
) -> tuple[str, int]:
    """Fit the monotone one-feature-per-tree LightGBM model; return (model text, rounds).

    LightGBM's "intermediate" monotone method is used first; should its forest still step
    against a ratio's risk direction (it can, by a hair), the fit is redone with "basic",
    which LightGBM guarantees monotone.
    """
    for method in ("intermediate", "basic"):
        text, rounds = _fit_lightgbm(specs, train, valid, seed=seed, method=method)
        if forest_is_monotone(specs, text):
            return text, rounds
    raise ModelError("LightGBM could not fit a monotone model to this data")


def forest_is_monotone(specs: tuple[RatioSpec, ...], text: str) -> bool:
    """Say whether every ratio's step function moves only in its risk direction."""
    _, trees = parse_lightgbm_text(text)
    _, steps = forest_step_functions(trees, len(specs))
    return all(
        bool(np.all(np.diff(step.values * spec.direction) >= 0))
        for spec, step in zip(specs, steps, strict=True)
    )


def _fit_lightgbm(
    specs: tuple[RatioSpec, ...], train: Cleaned, valid: Cleaned, *, seed: int, method: str
) -> tuple[str, int]:
    import lightgbm as lgb

    names = [spec.name for spec in specs]
    params = {
        "objective": "binary", "learning_rate": 0.05, "num_leaves": 8, "max_depth": 3,
        "min_data_in_leaf": 200, "lambda_l2": 5.0, "max_bin": 255,
        "monotone_constraints": [spec.direction for spec in specs],
        "monotone_constraints_method": method,
        "interaction_constraints": [[j] for j in range(len(specs))],
        "deterministic": True, "force_row_wise": True, "num_threads": 2, "seed": seed,
        "verbose": -1, "feature_pre_filter": False,
    }  # fmt: skip
    train_set = lgb.Dataset(train.values, label=train.y, feature_name=names, free_raw_data=False)
    valid_set = lgb.Dataset(valid.values, label=valid.y, reference=train_set)
    booster = lgb.train(
        params, train_set, num_boost_round=1500, valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(75, verbose=False)],
    )  # fmt: skip
    rounds = booster.best_iteration or booster.current_iteration()
    return booster.model_to_string(num_iteration=rounds), rounds


def _ramps(u: np.ndarray, knots: np.ndarray) -> np.ndarray:
    return np.stack(
        [np.clip(u, lo, hi) - lo for lo, hi in zip(knots[:-1], knots[1:], strict=True)], axis=1
    )


def fit_spline(specs: tuple[RatioSpec, ...], data: Cleaned) -> dict[str, Any]:
    """Fit the monotone ramp-spline logistic model; return its JSON-ready description."""
    blocks, layout = [], []
    for j, spec in enumerate(specs):
        ok = data.status[:, j] == OK
        u = spec.direction * data.values[:, j]
        knots = np.unique(np.quantile(u[ok], [0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99]))
        ramps = _ramps(np.where(ok, u, knots[0]), knots)
        missing = (data.status[:, j] == MISSING).astype(float)
        not_meaningful = (data.status[:, j] == NOT_MEANINGFUL).astype(float)
        blocks.append(np.column_stack([ramps, missing, not_meaningful]))
        layout.append((spec, knots, ramps.shape[1]))
    design = np.concatenate(blocks, axis=1)
    nonnegative = np.concatenate([np.r_[np.ones(m, bool), False, False] for _, _, m in layout])
    intercept, coefficients = fit_logistic(design, data.y, nonnegative=nonnegative, l2=1e-4)
    features, at = [], 0
    for spec, knots, m in layout:
        slopes = coefficients[at : at + m]
        values_u = np.concatenate([[0.0], np.cumsum(slopes * np.diff(knots))])
        x_knots, x_values = spec.direction * knots, values_u
        if spec.direction == -1:
            x_knots, x_values = x_knots[::-1], x_values[::-1]
        missing, not_meaningful = coefficients[at + m], coefficients[at + m + 1]
        features.append({
            "name": spec.name, "knots": x_knots.tolist(), "values": x_values.tolist(),
            "missing": float(missing), "not_meaningful": float(not_meaningful),
        })  # fmt: skip
        at += m + 2
    return {"intercept": intercept, "features": features}


def spline_log_odds(spline: dict[str, Any], data: Cleaned) -> np.ndarray:
    """Return the spline model's log-odds for cleaned rows."""
    total = np.full(data.y.shape[0], float(spline["intercept"]))
    for j, feature in enumerate(spline["features"]):
        part = np.interp(data.values[:, j], feature["knots"], feature["values"])
        part = np.where(data.status[:, j] == MISSING, feature["missing"], part)
        part = np.where(data.status[:, j] == NOT_MEANINGFUL, feature["not_meaningful"], part)
        total = total + part
    return total
