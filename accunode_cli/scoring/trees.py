"""Read LightGBM's text model and turn an additive forest into one step function per feature.

The shipped tree models are trained with one feature per tree (interaction constraints), so
the forest's raw score is a sum of one-dimensional step functions. Evaluating them with
``numpy.searchsorted`` gives LightGBM's own numbers without importing lightgbm at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accunode_cli.errors import ModelError

__all__ = ["Tree", "StepFunction", "parse_lightgbm_text", "forest_step_functions"]

_MISSING_NONE, _MISSING_ZERO, _MISSING_NAN = 0, 1, 2
_ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold


@dataclass(frozen=True)
class Tree:
    """One regression tree of a LightGBM model, in its flat array form."""

    split_feature: np.ndarray
    threshold: np.ndarray
    decision_type: np.ndarray
    left_child: np.ndarray
    right_child: np.ndarray
    leaf_value: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Return the leaf value reached by each value of this tree's single feature."""
        if self.split_feature.size == 0:
            return np.full(x.shape[0], self.leaf_value[0])
        if np.any(self.decision_type & 1):
            raise ModelError("categorical splits are not supported in AccuNode tree models")
        node = np.zeros(x.shape[0], dtype=np.int64)
        is_nan = np.isnan(x)
        for _ in range(self.split_feature.size + 1):
            active = node >= 0
            if not active.any():
                break
            at = node[active]
            kind = self.decision_type[at]
            missing_type = (kind >> 2) & 3
            default_left = (kind & 2).astype(bool)
            nan_here = is_nan[active]
            value = np.where(nan_here & (missing_type != _MISSING_NAN), 0.0, x[active])
            is_missing = ((missing_type == _MISSING_NAN) & nan_here) | (
                (missing_type == _MISSING_ZERO) & (np.abs(value) <= _ZERO_THRESHOLD)
            )
            with np.errstate(invalid="ignore"):
                go_left = np.where(is_missing, default_left, value <= self.threshold[at])
            node[active] = np.where(go_left, self.left_child[at], self.right_child[at])
        return self.leaf_value[~node]


@dataclass(frozen=True)
class StepFunction:
    """f(x) = values[searchsorted(thresholds, x)], with f(NaN) = missing."""

    thresholds: np.ndarray
    values: np.ndarray
    missing: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = self.values[np.searchsorted(self.thresholds, x, side="left")]
        return np.where(np.isnan(x), self.missing, out)


def _array(fields: dict[str, str], key: str, dtype: type) -> np.ndarray:
    text = fields.get(key, "").strip()
    return np.array(text.split(" "), dtype=dtype) if text else np.array([], dtype=dtype)


def parse_lightgbm_text(text: str) -> tuple[list[str], list[Tree]]:
    """Parse LightGBM's text model format into feature names and trees."""
    header, _, rest = text.partition("\nTree=")
    names = next(
        (line.split("=", 1)[1].split(" ") for line in header.splitlines()
         if line.startswith("feature_names=")),
        None,
    )  # fmt: skip
    if names is None or not rest:
        raise ModelError("the LightGBM model text has no feature names or no trees")
    trees = []
    for block in ("Tree=" + rest).split("\nTree=")[0:]:
        body = block.split("end of trees")[0]
        fields = dict(line.split("=", 1) for line in body.splitlines() if "=" in line)
        trees.append(
            Tree(
                split_feature=_array(fields, "split_feature", np.int64),
                threshold=_array(fields, "threshold", np.float64),
                decision_type=_array(fields, "decision_type", np.int64),
                left_child=_array(fields, "left_child", np.int64),
                right_child=_array(fields, "right_child", np.int64),
                leaf_value=_array(fields, "leaf_value", np.float64),
            )
        )
    return names, trees


def forest_step_functions(trees: list[Tree], n_features: int) -> tuple[float, list[StepFunction]]:
    """Collapse an additive forest into a constant plus one step function per feature."""
    constant = 0.0
    by_feature: list[list[Tree]] = [[] for _ in range(n_features)]
    for index, tree in enumerate(trees):
        used = np.unique(tree.split_feature)
        if used.size == 0:
            constant += float(tree.leaf_value[0])
        elif used.size == 1:
            by_feature[int(used[0])].append(tree)
        else:
            raise ModelError(
                f"tree {index} splits on several features; AccuNode needs one feature per tree "
                "(train with interaction constraints)"
            )
    functions = []
    for group in by_feature:
        cuts = np.unique(np.concatenate([t.threshold for t in group] or [np.array([])]))
        probes = np.append(cuts, np.inf)  # one point inside each interval (a, b], then (max, inf)
        values = np.zeros(probes.shape[0])
        missing = 0.0
        for tree in group:
            values = values + tree.predict(probes)
            missing = missing + float(tree.predict(np.array([np.nan]))[0])
        functions.append(StepFunction(cuts, values, missing))
    return constant, functions
