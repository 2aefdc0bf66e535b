"""Plain decimals cast up front score exactly like the core's own text cleaning."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from accunode_cli.scoring import load_model, ratio_names
from accunode_cli.tabular.fastparse import text_to_numbers

TOKENS = [
    "", "NM", "n/a", "N/M", "-", "—", "12.5%", "(3.2)", "1,234.5", " 7.5 ", "1e9", "-1e8",
    "+4", ".5", "5.", "inf", "nan", "NaN", "#DIV/0!", "99999999", "-0", "−2.5", "1e-3",
]  # fmt: skip


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_same_scores_with_and_without_the_fast_path(kind: str) -> None:
    """Every ratio, every token: probabilities, statuses and contributions are identical."""
    rng = np.random.default_rng(9)
    model = load_model(kind)
    n = 5_000
    text = {}
    for name in ratio_names(kind):
        cells = np.char.mod("%.3f", rng.normal(4, 30, n)).astype(object)
        pick = rng.random(n) < 0.3
        cells[pick] = rng.choice(np.array(TOKENS, dtype=object), pick.sum())
        text[name] = pa.array(cells.tolist(), pa.string())
    fast = {name: text_to_numbers(column) for name, column in text.items()}
    assert all(isinstance(values, np.ndarray) for values in fast.values())
    slow_batch = model.score_columns(text)
    fast_batch = model.score_columns(fast)
    assert np.array_equal(slow_batch.status, fast_batch.status)
    assert np.array_equal(slow_batch.probability, fast_batch.probability, equal_nan=True)
    assert np.array_equal(slow_batch.contributions, fast_batch.contributions, equal_nan=True)


def test_invalid_cell_leaves_the_column_to_the_core() -> None:
    """A cell that is no number makes the fast path step aside (the core names the reason)."""
    assert text_to_numbers(pa.array(["1.5", "abc", ""])) is None
    assert text_to_numbers(pa.array(["1.5", "2", ""])).tolist()[:2] == [1.5, 2.0]
