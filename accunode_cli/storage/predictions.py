"""Annual and quarterly predictions: score through the scoring core, store, list, rescore."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accunode_cli.errors import AccuNodeError, ConflictError, InputError
from accunode_cli.scoring import PDModel, Score, clean_column, normalise_quarter, ratio_names
from accunode_cli.scoring.cleaning import NOT_MEANINGFUL, NOT_MEANINGFUL_TOKENS, OK, STATUS_NAMES
from accunode_cli.storage.common import (
    Page,
    get_scoped,
    insert_many_unless_exist,
    order_by,
    paginate,
    select_by_keys,
)
from accunode_cli.storage.companies import CompanyIdentity, CompanyRef, resolve_companies
from accunode_cli.storage.db import as_utc, new_id, utcnow
from accunode_cli.storage.models import AnnualPrediction, Company, QuarterlyPrediction

__all__ = [
    "PREDICTION_CLASSES",
    "PREDICTION_SORTS",
    "Prediction",
    "PredictionRequest",
    "record_predictions",
    "get_prediction",
    "list_predictions",
    "rescore_prediction",
    "delete_prediction",
    "latest_prediction",
    "prediction_ids_of_company",
]

Prediction = AnnualPrediction | QuarterlyPrediction
PREDICTION_CLASSES: dict[str, type[AnnualPrediction] | type[QuarterlyPrediction]] = {
    "annual": AnnualPrediction,
    "quarterly": QuarterlyPrediction,
}
PREDICTION_SORTS = ("created_at", "updated_at", "reporting_year", "probability", "risk_level")


def _fields_of_score(score: Score, values: dict[str, float | None]) -> dict[str, Any]:
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


def _stored_ratio(row: Prediction, name: str) -> Any:
    """A stored ratio as it was given: a NULL flagged not meaningful was "NM", not missing."""
    value = getattr(row, name)
    if value is None and (row.flags or {}).get(name) == STATUS_NAMES[NOT_MEANINGFUL]:
        return NOT_MEANINGFUL_TOKENS[0]
    return value


def _unscorable(score: Score) -> InputError | None:
    if score.error is not None or score.probability is None or score.log_odds is None:
        return InputError(score.error or "the ratios could not be scored")
    return None


def _scored_fields(model: PDModel, ratios: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: ratios.get(name) for name in model.ratio_names}
    score = model.score_one(values)
    problem = _unscorable(score)
    if problem is not None:
        raise problem
    return _fields_of_score(score, {name: _as_number(value) for name, value in values.items()})


@dataclass(frozen=True)
class PredictionRequest:
    """One prediction to score and store: the company, the period and the ratios."""

    company: CompanyRef
    reporting_year: int
    ratios: Mapping[str, float | None]
    reporting_quarter: str | int | None = None


def record_predictions(
    session: Session, *, kind: str, model: PDModel, requests: Sequence[PredictionRequest]
) -> list[dict[str, Any] | AccuNodeError]:
    """Score and store many predictions: one scoring call and a handful of statements in all.

    Returns, in order, each stored prediction's columns (with ``company_symbol`` and
    ``company_name``) or the error of that request alone: NotFoundError for a company id of
    another organization, InputError for a missing quarter or ratios that cannot be scored,
    ConflictError (with ``existing_id``) when the company's period is already scored. The
    unique constraint decides conflicts, so two racing transactions cannot both insert.
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
    keys = ["company_id", "reporting_year"] + (["reporting_quarter"] if kind == "quarterly" else [])
    now = utcnow()
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, request in enumerate(requests):
        try:  # first the request's own data, so a refused one creates no company
            score = scored.row(index)
            problem = _unscorable(score)
            if problem is not None:
                raise problem
            values: dict[str, Any] = {
                "id": new_id(),
                "organization_id": request.company.organization_id,
                "company_id": None,
                "reporting_year": request.reporting_year,
                "created_by": request.company.created_by,
                "created_at": now,
                "updated_at": now,
                **_fields_of_score(
                    score, {name: _as_number(request.ratios.get(name)) for name in names}
                ),
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
        valid.append((index, values))
    companies = resolve_companies(session, [requests[index].company for index, _ in valid])
    rows: list[dict[str, Any]] = []
    pending: list[tuple[int, dict[str, Any], CompanyIdentity]] = []
    for (index, values), company in zip(valid, companies, strict=True):
        if isinstance(company, AccuNodeError):
            results[index] = company
            continue
        values["company_id"] = company.id
        rows.append(values)
        pending.append((index, values, company))
    if not rows:
        return results
    returned = insert_many_unless_exist(session, PREDICTION_CLASSES[kind], rows, keys, ["id"])
    inserted = {row.id for row in returned}  # our own ids: who won is unambiguous
    lost = [values for values in rows if values["id"] not in inserted]
    existing: dict[tuple[Any, ...], uuid.UUID] = {}
    if lost:
        found = select_by_keys(
            session,
            PREDICTION_CLASSES[kind],
            keys,
            [tuple(values[key] for key in keys) for values in lost],
            ["id", *keys],
        )
        existing = {tuple(row[1:]): row[0] for row in found}
    for index, values, company in pending:
        if values["id"] in inserted:
            values["company_symbol"] = company.symbol
            values["company_name"] = company.name
            continue
        other = existing.get(tuple(values[key] for key in keys))
        results[index] = ConflictError(
            f"a prediction of this kind ({kind}) already exists for this company and period",
            details={"existing_id": str(other) if other else None},
        )
    return results


def get_prediction(
    session: Session, *, organization_id: uuid.UUID, kind: str, prediction_id: uuid.UUID
) -> Prediction:
    """Return a prediction of the organization or raise NotFoundError."""
    return get_scoped(
        session, PREDICTION_CLASSES[kind], organization_id=organization_id, id=prediction_id
    )


def list_predictions(
    session: Session,
    *,
    organization_id: uuid.UUID,
    kind: str,
    company_id: uuid.UUID | None = None,
    symbol: str | None = None,
    reporting_year: int | None = None,
    reporting_quarter: str | None = None,
    risk_level: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    sort: str = "-created_at",
    page: int = 1,
    size: int = 20,
) -> Page[Prediction]:
    """Return one page of the organization's predictions, filtered and sorted."""
    cls = PREDICTION_CLASSES[kind]
    query = select(cls).where(cls.organization_id == organization_id)
    if company_id is not None:
        query = query.where(cls.company_id == company_id)
    if symbol:
        query = query.where(
            cls.company_id.in_(
                select(Company.id).where(
                    Company.organization_id == organization_id,
                    Company.symbol == symbol.strip().upper(),
                )
            )
        )
    if reporting_year is not None:
        query = query.where(cls.reporting_year == reporting_year)
    if reporting_quarter is not None and kind == "quarterly":
        query = query.where(
            QuarterlyPrediction.reporting_quarter == normalise_quarter(reporting_quarter)
        )
    if risk_level:
        query = query.where(cls.risk_level == risk_level.upper())
    if created_from is not None:
        query = query.where(cls.created_at >= as_utc(created_from))
    if created_to is not None:
        query = query.where(cls.created_at <= as_utc(created_to))
    sorts = PREDICTION_SORTS + (("reporting_quarter",) if kind == "quarterly" else ())
    return paginate(session, order_by(query, cls, sort, sorts), page=page, size=size)


def rescore_prediction(
    session: Session,
    *,
    organization_id: uuid.UUID,
    kind: str,
    prediction_id: uuid.UUID,
    model: PDModel,
    ratios: Mapping[str, Any],
) -> Prediction:
    """Replace the ratios of a prediction and score it again with the current model."""
    row = get_prediction(
        session, organization_id=organization_id, kind=kind, prediction_id=prediction_id
    )
    merged = {name: ratios.get(name, _stored_ratio(row, name)) for name in ratio_names(kind)}
    for field, value in _scored_fields(model, merged).items():
        setattr(row, field, value)
    session.flush()
    session.refresh(row)
    return row


def delete_prediction(
    session: Session, *, organization_id: uuid.UUID, kind: str, prediction_id: uuid.UUID
) -> None:
    """Delete a prediction of the organization."""
    row = get_prediction(
        session, organization_id=organization_id, kind=kind, prediction_id=prediction_id
    )
    session.delete(row)
    session.flush()


def latest_prediction(
    session: Session, *, organization_id: uuid.UUID, kind: str, company_id: uuid.UUID
) -> Prediction | None:
    """Return the company's prediction for its latest period, or None."""
    cls = PREDICTION_CLASSES[kind]
    query = select(cls).where(cls.organization_id == organization_id, cls.company_id == company_id)
    query = query.order_by(cls.reporting_year.desc())
    if kind == "quarterly":
        query = query.order_by(QuarterlyPrediction.reporting_quarter.desc())
    row: Prediction | None = session.scalars(query.limit(1)).first()  # type: ignore[assignment]
    return row


def prediction_ids_of_company(
    session: Session, *, organization_id: uuid.UUID, kind: str, company_id: uuid.UUID
) -> list[uuid.UUID]:
    """Return the ids of a company's predictions of one kind."""
    cls = PREDICTION_CLASSES[kind]
    query = select(cls.id).where(
        cls.organization_id == organization_id, cls.company_id == company_id
    )
    return list(session.scalars(query).all())
