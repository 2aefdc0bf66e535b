"""The summary of a bulk run keeps bounded state: its size does not grow with the rows."""

from __future__ import annotations

import numpy as np

from accunode_cli.scoring import load_model
from accunode_cli.tabular.summary import BulkSummary


def _state_bytes(summary: BulkSummary) -> int:
    arrays = [summary.risk_counts, summary.rating_counts, summary.histogram.counts]
    if summary.status_counts is not None:
        arrays.append(summary.status_counts)
    return sum(array.nbytes for array in arrays) + len(summary.warnings)


def _run(batches: int, rows: int, seed: int = 3) -> tuple[BulkSummary, np.ndarray]:
    model = load_model("annual")
    rng = np.random.default_rng(seed)
    summary = BulkSummary("annual", model.version, model.ratio_names)
    probabilities = []
    for _ in range(batches):
        columns = {name: rng.normal(10, 25, rows) for name in model.ratio_names}
        columns[model.ratio_names[0]][::9] = np.nan
        scored = model.score_columns(columns)
        summary.add(scored)
        probabilities.append(scored.probability[scored.risk_codes >= 0])
    return summary, np.concatenate(probabilities)


def test_summary_state_does_not_grow_with_rows() -> None:
    small, _ = _run(1, 1_000)
    large, _ = _run(40, 25_000)
    assert large.rows == 1_000_000
    assert _state_bytes(small) == _state_bytes(large)


def test_median_is_within_the_stated_precision_and_mean_is_exact() -> None:
    summary, probabilities = _run(5, 20_000, seed=11)
    result = summary.to_dict()
    exact = float(np.median(probabilities))
    assert abs(result["median_probability"] - exact) <= 0.0005 * exact  # 0.05 % of itself
    assert abs(result["mean_probability"] - probabilities.mean()) <= 1e-12 * probabilities.mean()
    tiny, values = _run(1, 3, seed=5)
    assert abs(tiny.to_dict()["median_probability"] - float(np.median(values))) <= 5e-4 * float(
        np.median(values)
    )
