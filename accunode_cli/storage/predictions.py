"""Annual and quarterly predictions: store, list, read, update, delete (scoring is done by
``accunode_cli.services.predictions``; storage stores, it never scores)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accunode_cli.errors import AccuNodeError, ConflictError
from accunode_cli.scoring import normalise_quarter
from accunode_cli.storage.common import (
    Page,
    get_scoped,
    insert_many_unless_exist,
    order_by,
    paginate,
    select_by_keys,
)
from accunode_cli.storage.companies import CompanyIdentity, CompanyRef, resolve_companies
from accunode_cli.storage.db import as_utc
from accunode_cli.storage.models import AnnualPrediction, Company, QuarterlyPrediction

__all__ = [
    "PREDICTION_CLASSES",
    "PREDICTION_SORTS",
    "Prediction",
    "store_predictions",
    "get_prediction",
    "list_predictions",
    "update_prediction",
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


def store_predictions(
    session: Session,
    *,
    kind: str,
    rows: Sequence[dict[str, Any]],
    companies: Sequence[CompanyRef],
) -> list[dict[str, Any] | AccuNodeError]:
    """Store scored predictions: find or create their companies, insert, report conflicts.

    ``rows`` hold every column but ``company_id`` (the company is ``companies[i]``). Returns,
    in order, each stored row's columns (with ``company_symbol`` and ``company_name``) or the
    error of that row alone: NotFoundError for a company id of another organization,
    ConflictError (with ``existing_id``) when the company's period is already scored. The
    unique constraint decides conflicts, so two racing transactions cannot both insert.
    """
    results: list[dict[str, Any] | AccuNodeError] = list(rows)
    keys = ["company_id", "reporting_year"] + (["reporting_quarter"] if kind == "quarterly" else [])
    resolved = resolve_companies(session, companies)
    pending: list[tuple[int, dict[str, Any], CompanyIdentity]] = []
    for index, (values, company) in enumerate(zip(rows, resolved, strict=True)):
        if isinstance(company, AccuNodeError):
            results[index] = company
            continue
        values["company_id"] = company.id
        pending.append((index, values, company))
    if not pending:
        return results
    insert = [values for _, values, _ in pending]
    returned = insert_many_unless_exist(session, PREDICTION_CLASSES[kind], insert, keys, ["id"])
    inserted = {row.id for row in returned}  # our own ids: who won is unambiguous
    lost = [values for values in insert if values["id"] not in inserted]
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
    job_id: uuid.UUID | None = None,
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
    if job_id is not None:
        query = query.where(cls.job_id == job_id)
    sorts = PREDICTION_SORTS + (("reporting_quarter",) if kind == "quarterly" else ())
    return paginate(session, order_by(query, cls, sort, sorts), page=page, size=size)


def update_prediction(
    session: Session,
    *,
    organization_id: uuid.UUID,
    kind: str,
    prediction_id: uuid.UUID,
    fields: Mapping[str, Any],
) -> Prediction:
    """Overwrite columns of a prediction of the organization (the service scored them)."""
    row = get_prediction(
        session, organization_id=organization_id, kind=kind, prediction_id=prediction_id
    )
    for field, value in fields.items():
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
