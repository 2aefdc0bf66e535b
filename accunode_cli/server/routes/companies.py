"""/companies: list, create, read (with the latest predictions), update, delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from accunode_cli.server.deps import SessionDep, StateDep, TenantDep, WriterDep, ensure_role
from accunode_cli.server.presenters import (
    company_body,
    etag_response,
    forget_predictions_after_commit,
    prediction_body,
    public_json,
)
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    LIST_ERROR_RESPONSES,
    CompanyCreate,
    CompanyDetailPublic,
    CompanyPublic,
    CompanyUpdate,
    Message,
    PagePublic,
)
from accunode_cli.storage import companies, predictions

router = APIRouter(prefix="/companies", tags=["companies"], responses=ERROR_RESPONSES)


@router.get("", response_model=PagePublic[CompanyPublic], responses=LIST_ERROR_RESPONSES)
def list_companies(
    tenant: TenantDep,
    session: SessionDep,
    search: Annotated[str | None, Query(max_length=100, description="In symbol or name")] = None,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[
        str, Query(description="symbol, name, sector, market_cap, created_at; '-' for descending")
    ] = "symbol",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """List your organization's companies, one page at a time.

    `search` finds text in the symbol or name (any case); `sector` matches exactly. `sort` is
    symbol, name, sector, market_cap or created_at, with a leading `-` for descending (default
    symbol); `page` counts from 1 and `size` is 1 to 100 (default 20). Every role may list.
    """
    result = companies.list_companies(
        session,
        organization_id=tenant.organization_id,
        search=search,
        sector=sector,
        sort=sort,
        page=page,
        size=size,
    )
    items = [company_body(company) for company in result.items]
    return {"items": items, "total": result.total, "page": result.page, "size": result.size}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CompanyPublic)
def create_company(body: CompanyCreate, tenant: WriterDep, session: SessionDep) -> Any:
    """Create a company (analysts and above)."""
    company = companies.create_company(
        session,
        organization_id=tenant.organization_id,
        created_by=tenant.user_id,
        **body.model_dump(),
    )
    return company_body(company)


@router.get("/{company_id}", response_model=CompanyDetailPublic)
def get_company(
    company_id: uuid.UUID, request: Request, tenant: TenantDep, session: SessionDep
) -> Any:
    """Return a company with its latest annual and quarterly predictions (ETag supported)."""
    org = tenant.organization_id
    company = companies.get_company(session, organization_id=org, company_id=company_id)
    body = company_body(company)
    for kind in ("annual", "quarterly"):
        latest = predictions.latest_prediction(
            session, organization_id=org, kind=kind, company_id=company.id
        )
        body[f"latest_{kind}_prediction"] = prediction_body(latest, kind) if latest else None
    return etag_response(request, public_json(CompanyDetailPublic, body))


@router.put("/{company_id}", response_model=CompanyPublic)
def update_company(
    company_id: uuid.UUID,
    body: CompanyUpdate,
    tenant: TenantDep,
    session: SessionDep,
    state: StateDep,
) -> Any:
    """Change a company (analysts and above)."""
    companies.get_company(session, organization_id=tenant.organization_id, company_id=company_id)
    ensure_role(tenant, "analyst")
    company = companies.update_company(
        session,
        organization_id=tenant.organization_id,
        company_id=company_id,
        changes=body.model_dump(exclude_unset=True),
    )
    _forget_company_predictions(state, session, tenant.organization_id, company.id)
    return company_body(company)


@router.delete("/{company_id}", response_model=Message)
def delete_company(
    company_id: uuid.UUID, tenant: TenantDep, session: SessionDep, state: StateDep
) -> Any:
    """Delete a company and its predictions (analysts and above)."""
    org = tenant.organization_id
    companies.get_company(session, organization_id=org, company_id=company_id)
    ensure_role(tenant, "analyst")
    _forget_company_predictions(state, session, org, company_id)
    companies.delete_company(session, organization_id=org, company_id=company_id)
    return {"message": "company deleted"}


def _forget_company_predictions(
    state: StateDep, session: SessionDep, organization_id: uuid.UUID, company_id: uuid.UUID
) -> None:
    for kind in ("annual", "quarterly"):
        ids = predictions.prediction_ids_of_company(
            session, organization_id=organization_id, kind=kind, company_id=company_id
        )
        forget_predictions_after_commit(session, state.store, organization_id, kind, ids)
