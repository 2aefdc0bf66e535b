"""Score and store predictions: the one place where a request's ratios meet the model."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accunode_cli.errors import AccuNodeError, InputError
from accunode_cli.scoring import clean_column, normalise_quarter, ratio_names
from accunode_cli.scoring.cleaning import NOT_MEANINGFUL, NOT_MEANINGFUL_TOKENS, OK, STATUS_NAMES
from accunode_cli.storage import predictions as stored
from accunode_cli.storage.companies import CompanyRef
from accunode_cli.storage.db import new_id, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from accunode_cli.scoring import PDModel, Score

__all__ = [
    "PredictionRequest",
    "record_predictions",
    "rescore_prediction",
    "score_fields",
    "unscorable",
]


@dataclass(frozen=True)
class PredictionRequest:
    """One prediction to score and store: the company, the period and the ratios."""

    company: CompanyRef
    reporting_year: int
    ratios: Mapping[str, float | None]
    reporting_quarter: str | int | None = None


def score_fields(score: Score, values: Mapping[str, float | None]) -> dict[str, Any]:
    """Return the stored columns of a score: the ratio values and the model's outputs."""
    return {
        **values,
        "probability": score.probability,
        "log_odds": score.log_odds,
        "risk_level": score.risk_level,
        "implied_rating": score.implied_rating,
        "contributions": score.contributions,
        "flags": score.flags,
        "model_version": score.model_version,
    }


def _as_number(value: Any) -> float | None:
    """The stored form of an input ratio: a number, or None (a marker such as "n/a" or "NM").

    Text is read by the scoring core's cleaning, as the CLI reads a cell ("12.5%" is 12.5);
    that a ratio was not meaningful is kept in the prediction's flags.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    cleaned = clean_column([str(value)])
    return float(cleaned.values[0]) if cleaned.status[0] == OK else None


def _stored_ratio(row: Any, name: str) -> Any:
    """A stored ratio as it was given: a NULL flagged not meaningful was "NM", not missing."""
    value = getattr(row, name)
    if value is None and (row.flags or {}).get(name) == STATUS_NAMES[NOT_MEANINGFUL]:
        return NOT_MEANINGFUL_TOKENS[0]
    return value


def unscorable(score: Score) -> InputError | None:
    """Return the error of a row the model could not score, None when it was scored."""
    if score.error is not None or score.probability is None or score.log_odds is None:
        return InputError(score.error or "the ratios could not be scored")
    return None


def record_predictions(
    session: Session, *, kind: str, model: PDModel, requests: Sequence[PredictionRequest]
) -> list[dict[str, Any] | AccuNodeError]:
    """Score many predictions in one call and store them with a handful of statements.

    Returns, in order, each stored prediction's columns or the error of that request alone
    (InputError for a missing quarter or ratios that cannot be scored; storage adds
    NotFoundError and ConflictError). A refused request creates no company.
    """
    if model.kind != kind:
        raise ValueError(f"a {model.kind} model cannot score {kind} predictions")
    results: list[dict[str, Any] | AccuNodeError] = []
    if not requests:
        return results
    names = model.ratio_names
    scored = model.score_columns(
        {name: [request.ratios.get(name) for request in requests] for name in names}
    )
    now = utcnow()
    valid: list[int] = []
    for index, request in enumerate(requests):
        try:
            score = scored.row(index)
            problem = unscorable(score)
            if problem is not None:
                raise problem
            ratios = {name: _as_number(request.ratios.get(name)) for name in names}
            values: dict[str, Any] = {
                "id": new_id(),
                "organization_id": request.company.organization_id,
                "company_id": None,
                "reporting_year": request.reporting_year,
                "created_by": request.company.created_by,
                "created_at": now,
                "updated_at": now,
                **score_fields(score, ratios),
            }
            if kind == "quarterly":
                if request.reporting_quarter is None:
                    raise InputError(
                        "reporting_quarter is required", details={"field": "reporting_quarter"}
                    )
                values["reporting_quarter"] = normalise_quarter(request.reporting_quarter)
        except AccuNodeError as exc:
            results.append(exc)
            continue
        results.append(values)
        valid.append(index)
    outcome = stored.store_predictions(
        session,
        kind=kind,
        rows=[results[index] for index in valid],  # type: ignore[misc]
        companies=[requests[index].company for index in valid],
    )
    for index, result in zip(valid, outcome, strict=True):
        results[index] = result
    return results


def rescore_prediction(
    session: Session,
    *,
    organization_id: uuid.UUID,
    kind: str,
    prediction_id: uuid.UUID,
    model: PDModel,
    ratios: Mapping[str, Any],
) -> stored.Prediction:
    """Replace the ratios of a prediction and score it again with the current model."""
    row = stored.get_prediction(
        session, organization_id=organization_id, kind=kind, prediction_id=prediction_id
    )
    merged = {name: ratios.get(name, _stored_ratio(row, name)) for name in ratio_names(kind)}
    score = model.score_one(merged)
    problem = unscorable(score)
    if problem is not None:
        raise problem
    return stored.update_prediction(
        session,
        organization_id=organization_id,
        kind=kind,
        prediction_id=prediction_id,
        fields=score_fields(score, {name: _as_number(value) for name, value in merged.items()}),
    )
