"""Annual and quarterly predictions: score through the scoring core, store, list, rescore."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from accunode_cli.errors import ConflictError, InputError
from accunode_cli.scoring import PDModel, normalise_quarter, ratio_names
from accunode_cli.storage.common import Page, get_scoped, insert_unless_exists, order_by, paginate
from accunode_cli.storage.models import AnnualPrediction, Company, QuarterlyPrediction

__all__ = [
    "PREDICTION_CLASSES",
    "PREDICTION_SORTS",
    "Prediction",
    "record_prediction",
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


def _scored_fields(model: PDModel, ratios: Mapping[str, float | None]) -> dict[str, Any]:
    values = {name: ratios.get(name) for name in model.ratio_names}
    score = model.score_one(values)
    if score.error is not None or score.probability is None or score.log_odds is None:
        raise InputError(score.error or "the ratios could not be scored")
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


def _period_filter(kind: str, company_id: uuid.UUID, year: int, quarter: str | None) -> list[Any]:
    cls = PREDICTION_CLASSES[kind]
    clauses = [cls.company_id == company_id, cls.reporting_year == year]
    if kind == "quarterly":
        clauses.append(QuarterlyPrediction.reporting_quarter == quarter)
    return clauses


def record_prediction(
    session: Session,
    *,
    organization_id: uuid.UUID,
    kind: str,
    model: PDModel,
    company: Company,
    reporting_year: int,
    reporting_quarter: str | int | None = None,
    ratios: Mapping[str, float | None],
    created_by: uuid.UUID | None = None,
) -> Prediction:
    """Score the ratios and store the prediction; a second one for the period is a conflict."""
    if company.organization_id != organization_id:
        raise InputError("the company belongs to another organization")
    if model.kind != kind:
        raise ValueError(f"a {model.kind} model cannot score {kind} predictions")
    cls = PREDICTION_CLASSES[kind]
    values: dict[str, Any] = {
        "organization_id": organization_id,
        "company_id": company.id,
        "reporting_year": reporting_year,
        "created_by": created_by,
        **_scored_fields(model, ratios),
    }
    keys = ["company_id", "reporting_year"]
    quarter = None
    if kind == "quarterly":
        if reporting_quarter is None:
            raise InputError(
                "reporting_quarter is required", details={"field": "reporting_quarter"}
            )
        quarter = values["reporting_quarter"] = normalise_quarter(reporting_quarter)
        keys.append("reporting_quarter")
    row = insert_unless_exists(session, cls, values, keys)
    if row is None:  # the unique constraint decided: this period is already scored
        existing = session.scalar(
            select(cls.id).where(*_period_filter(kind, company.id, reporting_year, quarter))
        )
        raise ConflictError(
            f"a prediction of this kind ({kind}) already exists for this company and period",
            details={"existing_id": str(existing) if existing else None},
        )
    set_committed_value(row, "company", company)
    return row


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
        query = query.where(cls.created_at >= created_from)
    if created_to is not None:
        query = query.where(cls.created_at <= created_to)
    sorts = PREDICTION_SORTS + (("reporting_quarter",) if kind == "quarterly" else ())
    return paginate(session, order_by(query, cls, sort, sorts), page=page, size=size)


def rescore_prediction(
    session: Session,
    *,
    organization_id: uuid.UUID,
    kind: str,
    prediction_id: uuid.UUID,
    model: PDModel,
    ratios: Mapping[str, float | None],
) -> Prediction:
    """Replace the ratios of a prediction and score it again with the current model."""
    row = get_prediction(
        session, organization_id=organization_id, kind=kind, prediction_id=prediction_id
    )
    merged = {name: ratios.get(name, getattr(row, name)) for name in ratio_names(kind)}
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
