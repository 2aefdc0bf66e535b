"""Companies of an organization; every function takes the organization as a required keyword."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accunode_cli.errors import ConflictError
from accunode_cli.storage.common import Page, get_scoped, insert_unless_exists, order_by, paginate
from accunode_cli.storage.models import Company

__all__ = [
    "COMPANY_SORTS",
    "normalise_symbol",
    "list_companies",
    "create_company",
    "get_company",
    "update_company",
    "delete_company",
    "get_or_create_company",
]

COMPANY_SORTS = ("symbol", "name", "sector", "market_cap", "created_at", "updated_at")


def normalise_symbol(symbol: str) -> str:
    """Return the symbol as stored and compared: trimmed and upper-case."""
    return symbol.strip().upper()


def _conflict(organization_id: uuid.UUID, symbol: str) -> ConflictError:
    return ConflictError(
        f"a company with symbol {symbol!r} already exists in this organization",
        details={"symbol": symbol},
    )


def list_companies(
    session: Session,
    *,
    organization_id: uuid.UUID,
    search: str | None = None,
    sector: str | None = None,
    sort: str = "symbol",
    page: int = 1,
    size: int = 20,
) -> Page[Company]:
    """Return one page of the organization's companies, filtered and sorted."""
    query = select(Company).where(Company.organization_id == organization_id)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(Company.symbol.ilike(pattern), Company.name.ilike(pattern)))
    if sector:
        query = query.where(Company.sector == sector)
    return paginate(session, order_by(query, Company, sort, COMPANY_SORTS), page=page, size=size)


def create_company(
    session: Session,
    *,
    organization_id: uuid.UUID,
    symbol: str,
    name: str,
    sector: str | None = None,
    market_cap: float | None = None,
    created_by: uuid.UUID | None = None,
) -> Company:
    """Create a company; a symbol already used in the organization raises ConflictError."""
    normalised = normalise_symbol(symbol)
    values = {
        "organization_id": organization_id,
        "symbol": normalised,
        "name": name.strip(),
        "sector": sector,
        "market_cap": market_cap,
        "created_by": created_by,
    }
    company = insert_unless_exists(session, Company, values, ["organization_id", "symbol"])
    if company is None:
        raise _conflict(organization_id, normalised)
    return company


def get_company(session: Session, *, organization_id: uuid.UUID, company_id: uuid.UUID) -> Company:
    """Return a company of the organization or raise NotFoundError."""
    return get_scoped(session, Company, organization_id=organization_id, id=company_id)


def update_company(
    session: Session, *, organization_id: uuid.UUID, company_id: uuid.UUID, changes: dict[str, Any]
) -> Company:
    """Apply the given field changes to a company of the organization."""
    company = get_company(session, organization_id=organization_id, company_id=company_id)
    if "symbol" in changes and changes["symbol"] is not None:
        changes["symbol"] = normalise_symbol(changes["symbol"])
    try:
        with session.begin_nested():  # the savepoint must hold the changes, not just the flush
            for field in ("symbol", "name", "sector", "market_cap"):
                if field in changes:
                    setattr(company, field, changes[field])
            session.flush()
    except IntegrityError as exc:
        raise _conflict(organization_id, str(changes.get("symbol"))) from exc
    return company


def delete_company(session: Session, *, organization_id: uuid.UUID, company_id: uuid.UUID) -> None:
    """Delete a company of the organization and, by cascade, its predictions."""
    company = get_company(session, organization_id=organization_id, company_id=company_id)
    session.delete(company)
    session.flush()


def get_or_create_company(
    session: Session,
    *,
    organization_id: uuid.UUID,
    symbol: str,
    name: str | None,
    sector: str | None = None,
    market_cap: float | None = None,
    created_by: uuid.UUID | None = None,
) -> Company:
    """Return the organization's company with this symbol, creating it on first use (race-safe)."""
    normalised = normalise_symbol(symbol)
    query = select(Company).where(
        Company.organization_id == organization_id, Company.symbol == normalised
    )
    existing = session.scalar(query)
    if existing is not None:
        return existing
    try:
        return create_company(
            session,
            organization_id=organization_id,
            symbol=normalised,
            name=name or normalised,
            sector=sector,
            market_cap=market_cap,
            created_by=created_by,
        )
    except ConflictError:  # another request created it between our read and our insert
        found = session.scalar(query)
        if found is None:
            raise
        return found
