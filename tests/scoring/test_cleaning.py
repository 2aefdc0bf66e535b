"""The one cleaning step: every rule a real export needs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from accunode_cli.scoring import INVALID, MISSING, NOT_MEANINGFUL, OK, clean_column
from accunode_cli.scoring.cleaning import apply_floor


@pytest.mark.parametrize(
    ("cell", "value", "status"),
    [
        ("12.5%", 12.5, OK),
        ("12.5 %", 12.5, OK),
        ("1,234.5", 1234.5, OK),
        ("(3.2)", -3.2, OK),
        ("  7.25  ", 7.25, OK),
        ("-4", -4.0, OK),
        ("\u22124", -4.0, OK),
        (".5", 0.5, OK),
        ("1e3", 1000.0, OK),
        ("+2", 2.0, OK),
        ("", None, MISSING),
        ("   ", None, MISSING),
        ("NaN", None, MISSING),
        ("N/A", None, MISSING),
        ("NA", None, MISSING),
        ("n.a.", None, MISSING),
        ("-", None, MISSING),
        ("--", None, MISSING),
        ("\u2014", None, MISSING),
        (None, None, MISSING),
        ("NM", None, NOT_MEANINGFUL),
        ("N/M", None, NOT_MEANINGFUL),
        ("nm", None, NOT_MEANINGFUL),
        ("inf", None, NOT_MEANINGFUL),
        ("-Infinity", None, NOT_MEANINGFUL),
        ("100000000", None, NOT_MEANINGFUL),
        ("-1e7", None, NOT_MEANINGFUL),
        ("abc", None, INVALID),
        ("12.5.1", None, INVALID),
        ("1,5", None, INVALID),  # a decimal comma is the reader's job; never guess here
    ],
)
def test_text_cells_clean_to_value_and_status(
    cell: str | None, value: float | None, status: int
) -> None:
    cleaned = clean_column(pa.array([cell], type=pa.string()))
    assert cleaned.status[0] == status
    if value is None:
        assert np.isnan(cleaned.values[0])
    else:
        assert cleaned.values[0] == value


def test_numeric_cells_flag_nan_inf_and_sentinels() -> None:
    cleaned = clean_column(np.array([1.5, np.nan, np.inf, -np.inf, 1e8, -2e7, 9_999_999.0]))
    assert cleaned.status.tolist() == [OK, MISSING, NOT_MEANINGFUL, NOT_MEANINGFUL, NOT_MEANINGFUL,
                                       NOT_MEANINGFUL, OK]  # fmt: skip
    assert cleaned.values[0] == 1.5 and np.isnan(cleaned.values[1:6]).all()


def test_arrow_numeric_nulls_and_integers_are_handled() -> None:
    cleaned = clean_column(pa.array([1, None, 3], type=pa.int64()))
    assert cleaned.status.tolist() == [OK, MISSING, OK]
    assert cleaned.values[2] == 3.0


def test_python_sequences_mixing_numbers_and_text() -> None:
    cleaned = clean_column([1.0, "NM", None, "2%"])
    assert cleaned.status.tolist() == [OK, NOT_MEANINGFUL, MISSING, OK]
    assert cleaned.values[3] == 2.0


def test_all_null_column_is_missing() -> None:
    assert clean_column(pa.nulls(3)).status.tolist() == [MISSING] * 3


def test_negative_values_below_a_floor_are_not_meaningful() -> None:
    floored = apply_floor(clean_column(np.array([-1.0, 0.0, 2.0, np.nan])), 0.0)
    assert floored.status.tolist() == [NOT_MEANINGFUL, OK, OK, MISSING]
    assert np.isnan(floored.values[0])
