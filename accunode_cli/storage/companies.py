"""Companies of an organization; every function takes the organization as a required keyword."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accunode_cli.errors import ConflictError, NotFoundError
from accunode_cli.storage.common import (
    Page,
    get_scoped,
    insert_many_unless_exist,
    insert_unless_exists,
    order_by,
    paginate,
    select_by_keys,
)
from accunode_cli.storage.db import new_id, utcnow
from accunode_cli.storage.models import Company

__all__ = [
    "COMPANY_SORTS",
    "normalise_symbol",
    "list_companies",
    "create_company",
    "get_company",
    "update_company",
    "delete_company",
    "CompanyRef",
    "CompanyIdentity",
    "resolve_companies",
    "known_company_ids",
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
        # % and _ are matched literally, like every other character of the search text
        literal = search.strip().lower().replace("\\", "\\\\")
        literal = literal.replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        query = query.where(
            or_(
                Company.symbol.ilike(pattern, escape="\\"),
                Company.name.ilike(pattern, escape="\\"),
            )
        )
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


@dataclass(frozen=True)
class CompanyRef:
    """Which company a request means: its id, or a symbol created on first use."""

    organization_id: uuid.UUID
    company_id: uuid.UUID | None = None
    symbol: str | None = None
    name: str | None = None
    sector: str | None = None
    market_cap: float | None = None
    created_by: uuid.UUID | None = None


class CompanyIdentity(NamedTuple):
    """The columns of a company that a prediction shows."""

    id: uuid.UUID
    organization_id: uuid.UUID
    symbol: str
    name: str


_IDENTITY = (Company.id, Company.organization_id, Company.symbol, Company.name)


def resolve_companies(
    session: Session, refs: Sequence[CompanyRef]
) -> list[CompanyIdentity | NotFoundError]:
    """Find the companies of many requests, creating those named by a new symbol (race-safe).

    An id of another organization (or of no company) is a NotFoundError for that request
    only. However many requests there are, this takes at most four statements: the ids, the
    symbols, one insert of the new symbols, and a re-read of any that a concurrent
    transaction inserted first.
    """
    by_id: dict[uuid.UUID, CompanyIdentity] = {}
    ids = {ref.company_id for ref in refs if ref.company_id is not None}
    if ids:
        rows = session.execute(select(*_IDENTITY).where(Company.id.in_(ids)))
        by_id = {row.id: CompanyIdentity._make(row) for row in rows}
    wanted: dict[tuple[uuid.UUID, str], CompanyRef] = {}
    for ref in refs:
        if ref.company_id is None and ref.symbol is not None:
            wanted.setdefault((ref.organization_id, normalise_symbol(ref.symbol)), ref)
    by_symbol = _companies_by_symbol(session, list(wanted))
    missing = [key for key in wanted if key not in by_symbol]
    if missing:
        now = utcnow()
        new = [
            {
                "id": new_id(),
                "organization_id": organization_id,
                "symbol": symbol,
                "name": (wanted[organization_id, symbol].name or symbol).strip() or symbol,
                "sector": wanted[organization_id, symbol].sector,
                "market_cap": wanted[organization_id, symbol].market_cap,
                "created_by": wanted[organization_id, symbol].created_by,
                "created_at": now,
                "updated_at": now,
            }
            for organization_id, symbol in missing
        ]
        inserted = insert_many_unless_exist(
            session,
            Company,
            new,
            ["organization_id", "symbol"],
            [column.key for column in _IDENTITY],
        )
        for row in inserted:
            by_symbol[row.organization_id, row.symbol] = CompanyIdentity._make(row)
        raced = [key for key in missing if key not in by_symbol]
        by_symbol.update(_companies_by_symbol(session, raced))
    results: list[CompanyIdentity | NotFoundError] = []
    for ref in refs:
        if ref.company_id is not None:
            company = by_id.get(ref.company_id)
            if company is None or company.organization_id != ref.organization_id:
                results.append(
                    NotFoundError("company not found", details={"id": str(ref.company_id)})
                )
                continue
            results.append(company)
        elif ref.symbol is not None:
            results.append(by_symbol[ref.organization_id, normalise_symbol(ref.symbol)])
        else:
            raise ValueError("a company reference needs a company id or a symbol")
    return results


def known_company_ids(
    session: Session, *, organization_id: uuid.UUID, symbols: Sequence[str]
) -> dict[str, str]:
    """Return the id (as text) of each of ``symbols`` (normalised) that names a company of the
    organization: one statement with one organization, for the thousands of symbols of a
    bulk chunk (:func:`resolve_companies` then creates the rest)."""
    if not symbols:
        return {}
    wanted = sorted(set(symbols))
    if session.get_bind().dialect.name == "postgresql":  # one array, whatever its length
        from sqlalchemy import String, any_, bindparam, cast
        from sqlalchemy.dialects.postgresql import ARRAY

        array = bindparam("symbols", wanted, type_=ARRAY(Company.symbol.type))
        statement = select(Company.symbol, cast(Company.id, String)).where(
            Company.organization_id == organization_id, Company.symbol == any_(array)
        )
        return {symbol: text for symbol, text in session.execute(statement)}  # no UUID objects
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 10_000):  # SQLite caps the variables of a statement
        part = select(Company.symbol, Company.id).where(
            Company.organization_id == organization_id,
            Company.symbol.in_(wanted[start : start + 10_000]),
        )
        found.update({symbol: str(key) for symbol, key in session.execute(part)})
    return found


def _companies_by_symbol(
    session: Session, keys: Sequence[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], CompanyIdentity]:
    if not keys:
        return {}
    rows = select_by_keys(
        session,
        Company,
        ["organization_id", "symbol"],
        keys,
        [column.key for column in _IDENTITY],
    )
    return {(row.organization_id, row.symbol): CompanyIdentity._make(row) for row in rows}
