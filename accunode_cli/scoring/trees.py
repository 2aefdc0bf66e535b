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


def _predict_group(trees: list[Tree], x: np.ndarray) -> np.ndarray:
    """Sum the leaf values that one-feature trees give each value of x, all trees at once."""
    if np.any([np.any(t.decision_type & 1) for t in trees]):
        raise ModelError("categorical splits are not supported in AccuNode tree models")
    count = len(trees)
    width = max(t.split_feature.size for t in trees)
    threshold = np.zeros((count, width))
    decision = np.zeros((count, width), dtype=np.int64)
    left = np.full((count, width), -1, dtype=np.int64)
    right = np.full((count, width), -1, dtype=np.int64)
    leaves = np.zeros((count, width + 1))
    for i, tree in enumerate(trees):
        n = tree.split_feature.size
        threshold[i, :n], decision[i, :n] = tree.threshold, tree.decision_type
        left[i, :n], right[i, :n] = tree.left_child, tree.right_child
        leaves[i, : tree.leaf_value.size] = tree.leaf_value
    rows = np.arange(count)[:, None]
    node = np.zeros((count, x.size), dtype=np.int64)
    is_nan = np.isnan(x)[None, :]
    for _ in range(width):
        active = node >= 0
        if not active.any():
            break
        at = np.where(active, node, 0)
        kind = decision[rows, at]
        missing_type = (kind >> 2) & 3
        value = np.where(is_nan & (missing_type != _MISSING_NAN), 0.0, x[None, :])
        is_missing = ((missing_type == _MISSING_NAN) & is_nan) | (
            (missing_type == _MISSING_ZERO) & (np.abs(value) <= _ZERO_THRESHOLD)
        )
        with np.errstate(invalid="ignore"):
            go_left = np.where(is_missing, (kind & 2) != 0, value <= threshold[rows, at])
        node = np.where(active, np.where(go_left, left[rows, at], right[rows, at]), node)
    return leaves[rows, ~node].sum(axis=0)


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
        if not group:
            functions.append(StepFunction(np.array([]), np.zeros(1), 0.0))
            continue
        cuts = np.unique(np.concatenate([t.threshold for t in group]))
        # one probe inside each interval (a, b], then (max, inf), then NaN for missing values
        values = _predict_group(group, np.concatenate([cuts, [np.inf, np.nan]]))
        functions.append(StepFunction(cuts, values[:-1], float(values[-1])))
    return constant, functions
