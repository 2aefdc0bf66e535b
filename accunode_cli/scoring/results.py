"""What scoring returns: a vectorised batch of results and the one-company view of a row."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from accunode_cli.scoring.cleaning import INVALID, MISSING, OK, STATUS_NAMES
from accunode_cli.scoring.outputs import RATINGS, RISK_LEVELS, rating_codes, risk_level_codes

if TYPE_CHECKING:
    from accunode_cli.scoring.engine import PDModel

__all__ = ["NO_RATIO_VALUES", "Score", "ScoredBatch", "probability_from_log_odds"]

# A row whose every ratio is missing is not a company-year (a "Total" footer, a blank line with
# a label): it gets no probability and this reason. One value, or one NM, is enough to score.
NO_RATIO_VALUES = "no ratio values"
_BASE = len(STATUS_NAMES)  # the flags code packs one status per ratio in this base


def probability_from_log_odds(log_odds: np.ndarray) -> np.ndarray:
    """Return the logistic function of log-odds, stable at both ends."""
    with np.errstate(invalid="ignore"):  # NaN (an unscorable row) stays NaN
        return np.exp(-np.logaddexp(0.0, -log_odds))


@dataclass(frozen=True)
class Score:
    """The result for one company."""

    probability: float | None
    log_odds: float | None
    risk_level: str | None
    implied_rating: str | None
    contributions: dict[str, float]
    flags: dict[str, str]
    model_version: str
    base_log_odds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def _row_errors(names: tuple[str, ...], status: np.ndarray, raw: Mapping[str, Any]) -> np.ndarray:
    """Return each row's reason for having no score: every invalid cell, or no ratio values."""
    messages = np.full(status.shape[0], None, dtype=object)
    bad_rows = np.flatnonzero((status == INVALID).any(axis=1))
    for row in bad_rows:  # rejected rows only: a Python loop over them is cheap
        parts = []
        for j in np.flatnonzero(status[row] == INVALID):
            cell = raw[names[j]][int(row)]
            text = cell.as_py() if hasattr(cell, "as_py") else cell
            parts.append(f"{names[j]}: {str(text)[:60]!r} is not a number")
        messages[row] = "; ".join(parts)
    messages[_no_values(status)] = NO_RATIO_VALUES
    return messages


def _no_values(status: np.ndarray) -> np.ndarray:
    """Mark the rows whose every ratio is missing."""
    return np.asarray((status == MISSING).all(axis=1))


@dataclass(frozen=True)
class ScoredBatch:
    """Scores of many rows, as numpy arrays in input order."""

    ratio_names: tuple[str, ...]
    model_version: str
    base_log_odds: float
    probability: np.ndarray  # float64, NaN where the row cannot be scored
    log_odds: np.ndarray
    contributions: np.ndarray  # (n, k) log-odds
    status: np.ndarray  # (n, k) int8
    risk_codes: np.ndarray  # index into RISK_LEVELS, -1 when unscored
    rating_codes: np.ndarray  # index into RATINGS, -1 when unscored
    row_error: np.ndarray  # object: None or a one-line reason

    @classmethod
    def build(
        cls,
        model: PDModel,
        log_odds: np.ndarray,
        contributions: np.ndarray,
        status: np.ndarray,
        raw: Mapping[str, Any],
    ) -> ScoredBatch:
        """Derive probabilities, levels, ratings and row errors from scored log-odds.

        A row without any ratio value gets no log-odds (NaN), so no probability either.
        """
        empty = _no_values(status)
        if empty.any():
            log_odds = np.where(empty, np.nan, log_odds)
        probability = probability_from_log_odds(log_odds)
        return cls(
            ratio_names=model.ratio_names,
            model_version=model.version,
            base_log_odds=model.base_log_odds,
            probability=probability,
            log_odds=log_odds,
            contributions=contributions,
            status=status,
            risk_codes=risk_level_codes(probability),
            rating_codes=rating_codes(probability),
            row_error=_row_errors(model.ratio_names, status, raw),
        )

    def __len__(self) -> int:
        return int(self.probability.shape[0])

    def row(self, index: int) -> Score:
        """Return one row as a Score."""
        error = self.row_error[index]
        scored = error is None
        flags = {
            name: STATUS_NAMES[int(code)]
            for name, code in zip(self.ratio_names, self.status[index], strict=True)
            if code != OK
        }
        return Score(
            probability=float(self.probability[index]) if scored else None,
            log_odds=float(self.log_odds[index]) if scored else None,
            risk_level=RISK_LEVELS[self.risk_codes[index]] if scored else None,
            implied_rating=RATINGS[self.rating_codes[index]] if scored else None,
            contributions=(
                {
                    n: float(c)
                    for n, c in zip(self.ratio_names, self.contributions[index], strict=True)
                }
                if scored
                else {}
            ),
            flags=flags,
            model_version=self.model_version,
            base_log_odds=self.base_log_odds,
            error=error,
        )

    def flags_text(self) -> Any:
        """Return a pyarrow string array: "ratio=missing;ratio=out_of_range", "" when none."""
        import pyarrow as pa

        return self._flag_codes().cast(pa.string())

    def _flag_codes(self) -> Any:
        import pyarrow as pa

        code = np.zeros(len(self), dtype=np.int32)
        for j in range(len(self.ratio_names)):
            code = code * _BASE + self.status[:, j]
        indices = _numbers(pa.int32(), code, None)
        return pa.DictionaryArray.from_arrays(indices, _flag_labels(self.ratio_names))

    def to_arrow(self, *, explain: bool = False, dictionary: bool = False) -> Any:
        """Return the output columns as a pyarrow Table (no input columns).

        With ``dictionary`` the text columns (risk level, rating, model version, flags) stay
        dictionary-encoded: cheaper to build and to write to Parquet, same values.
        """
        import pyarrow as pa

        def text(array: Any) -> Any:
            return array if dictionary else array.cast(pa.string())

        scored = self.risk_codes >= 0
        columns: dict[str, Any] = {
            "probability": _numbers(pa.float64(), self.probability, scored),
            "risk_level": text(_labels(self.risk_codes, RISK_LEVELS)),
            "implied_rating": text(_labels(self.rating_codes, RATINGS)),
            "model_version": text(_repeat(self.model_version, len(self))),
            "flags": text(self._flag_codes()),
            "error": _texts(self.row_error),
        }
        if explain:
            for j, name in enumerate(self.ratio_names):
                values = np.ascontiguousarray(self.contributions[:, j])
                columns[f"contribution_{name}"] = _numbers(pa.float64(), values, scored)
        return pa.Table.from_arrays(list(columns.values()), names=list(columns))


# Arrays are built from their buffers: pyarrow.array() imports pandas to inspect its argument,
# which would cost every bulk run and every server process a third of a second.


def _numbers(kind: Any, values: np.ndarray, valid: np.ndarray | None) -> Any:
    """Wrap a numpy array of a fixed-width type as a pyarrow array; ``valid`` marks non-nulls."""
    import pyarrow as pa

    data = pa.py_buffer(np.ascontiguousarray(values))
    if valid is None or valid.all():
        return pa.Array.from_buffers(kind, len(values), [None, data])
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(kind, len(values), [bitmap, data], null_count=int((~valid).sum()))


def _texts(values: np.ndarray) -> Any:
    """Wrap an object array of str or None as a pyarrow string array."""
    import pyarrow as pa

    valid = np.array([value is not None for value in values], dtype=bool)
    if not valid.any():
        return pa.nulls(len(values), pa.string())
    encoded = [value.encode() if value is not None else b"" for value in values]
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(item) for item in encoded])
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers, null_count=int((~valid).sum()))


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> Any:
    import pyarrow as pa

    indices = _numbers(pa.int32(), codes.astype(np.int32), codes >= 0)
    return pa.DictionaryArray.from_arrays(indices, _label_array(labels))


@functools.lru_cache(maxsize=16)
def _label_array(labels: tuple[str, ...]) -> Any:
    from accunode_cli.scoring.cleaning import strings_array

    return strings_array(labels)


@functools.lru_cache(maxsize=8)
def _flag_labels(names: tuple[str, ...]) -> Any:
    """Return the flags text of every combination of statuses, indexed by its code."""
    labels = []
    for code in range(_BASE ** len(names)):
        digits = [(code // _BASE ** (len(names) - 1 - j)) % _BASE for j in range(len(names))]
        pairs = zip(names, digits, strict=True)
        labels.append(";".join(f"{n}={STATUS_NAMES[d]}" for n, d in pairs if d != OK))
    return _label_array(tuple(labels))


def _repeat(text: str, count: int) -> Any:
    import pyarrow as pa

    indices = _numbers(pa.int32(), np.zeros(count, dtype=np.int32), None)
    return pa.DictionaryArray.from_arrays(indices, _label_array((text,)))
