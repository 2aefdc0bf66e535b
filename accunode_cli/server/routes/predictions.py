"""/predictions/annual and /predictions/quarterly: score and store, list, read, rescore, delete."""

import uuid
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accunode_cli.errors import ServiceUnavailableError
from accunode_cli.scoring import ratio_names
from accunode_cli.server.deps import (
    SessionDep,
    StateDep,
    Tenant,
    TenantDep,
    ensure_role,
    has_role,
)
from accunode_cli.server.presenters import (
    cache_prediction,
    etag_response,
    forget_predictions_after_commit,
    prediction_body,
    prediction_cache_key,
    prediction_fields,
    public_json,
    read_cached_prediction,
    with_cumulative_pds,
)
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    LIST_ERROR_RESPONSES,
    AnnualPredictionCreate,
    AnnualPredictionPublic,
    AnnualPredictionRead,
    AnnualPredictionUpdate,
    Message,
    PagePublic,
    QuarterlyPredictionCreate,
    QuarterlyPredictionPublic,
    QuarterlyPredictionRead,
    QuarterlyPredictionUpdate,
    RiskLevel,
)
from accunode_cli.server.state import AppState
from accunode_cli.services import predictions as scored
from accunode_cli.storage import companies, predictions

router = APIRouter(prefix="/predictions", tags=["predictions"], responses=ERROR_RESPONSES)

# ?horizon=N on the reads: cumulative PDs for 1..N years, as the what-if's `horizon`.
HorizonQuery = Annotated[
    int | None, Query(ge=1, le=5, description="Add cumulative_pd for 1..horizon years (1 to 5)")
]


def _model(state: AppState, kind: str) -> Any:
    model = state.models.get(kind)
    if model is None:
        raise ServiceUnavailableError(f"the {kind} model is not loaded")
    return model


def _find_company(state: AppState, organization_id: uuid.UUID, company_id: uuid.UUID) -> None:
    with state.sessions() as session:
        companies.get_company(session, organization_id=organization_id, company_id=company_id)


def _add_routes(
    kind: str,
    create: type[BaseModel],
    update: type[BaseModel],
    public: type[BaseModel],
    read: type[BaseModel],
) -> None:
    names = ratio_names(kind)

    def _existing(session: Session, tenant: Tenant, prediction_id: uuid.UUID) -> None:
        # look up first: another tenant's id is a 404 for every role, never a 403
        predictions.get_prediction(
            session, organization_id=tenant.organization_id, kind=kind, prediction_id=prediction_id
        )
        ensure_role(tenant, "analyst")

    async def create_prediction(
        body: create,  # type: ignore[valid-type]
        tenant: TenantDep,
        state: StateDep,
    ) -> Any:
        org = tenant.organization_id
        data = cast(BaseModel, body).model_dump()
        if not has_role(tenant, "analyst"):
            if data["company_id"] is not None:  # another tenant's company: 404 for every role
                await run_in_threadpool(_find_company, state, org, data["company_id"])
            ensure_role(tenant, "analyst")
        writer = state.writers.get(kind)
        if writer is None:
            raise ServiceUnavailableError(f"the {kind} model is not loaded")
        request = scored.PredictionRequest(
            company=companies.CompanyRef(
                organization_id=org,
                company_id=data["company_id"],
                symbol=data["company_symbol"],
                name=data["company_name"],
                sector=data["sector"],
                market_cap=data["market_cap"],
                created_by=tenant.user_id,
            ),
            reporting_year=data["reporting_year"],
            reporting_quarter=data.get("reporting_quarter"),
            ratios={name: data[name] for name in names},
        )
        # Concurrent creations share one scoring call, one transaction and a few statements.
        return prediction_fields(await writer.submit(request), kind)  # the model makes the JSON

    def list_predictions(
        tenant: TenantDep,
        session: SessionDep,
        company_id: uuid.UUID | None = None,
        symbol: Annotated[str | None, Query(max_length=32)] = None,
        reporting_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
        reporting_quarter: Annotated[str | None, Query(pattern="^[Qq]?[1-4]$")] = None,
        risk_level: RiskLevel | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        job_id: Annotated[
            uuid.UUID | None, Query(description="Only the predictions a bulk-upload job stored")
        ] = None,
        sort: Annotated[
            str,
            Query(
                description="created_at, reporting_year, probability, risk_level; - for descending"
            ),
        ] = "-created_at",
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        size: Annotated[int, Query(ge=1, le=100)] = 20,
        horizon: HorizonQuery = None,
    ) -> Any:
        result = predictions.list_predictions(
            session,
            organization_id=tenant.organization_id,
            kind=kind,
            company_id=company_id,
            symbol=symbol,
            reporting_year=reporting_year,
            reporting_quarter=reporting_quarter,
            risk_level=risk_level,
            created_from=created_from,
            created_to=created_to,
            job_id=job_id,
            sort=sort,
            page=page,
            size=size,
        )
        items = with_cumulative_pds([prediction_body(row, kind) for row in result.items], horizon)
        return {"items": items, "total": result.total, "page": result.page, "size": result.size}

    def get_prediction(
        prediction_id: uuid.UUID,
        request: Request,
        tenant: TenantDep,
        session: SessionDep,
        state: StateDep,
        horizon: HorizonQuery = None,
    ) -> Any:
        # The cache holds the body without cumulative PDs (one entry whatever the horizon);
        # they are added after it, so the ETag is of the body this horizon gets.
        key = prediction_cache_key(tenant.organization_id, kind, prediction_id)
        body, version = read_cached_prediction(state.store, key)
        if body is None:
            row = predictions.get_prediction(
                session,
                organization_id=tenant.organization_id,
                kind=kind,
                prediction_id=prediction_id,
            )
            body = public_json(public, prediction_body(row, kind))
            cache_prediction(state.store, key, version, body)
        return etag_response(request, with_cumulative_pds([body], horizon)[0])

    def update_prediction(
        prediction_id: uuid.UUID,
        body: update,  # type: ignore[valid-type]
        tenant: TenantDep,
        session: SessionDep,
        state: StateDep,
    ) -> Any:
        _existing(session, tenant, prediction_id)
        row = scored.rescore_prediction(
            session,
            organization_id=tenant.organization_id,
            kind=kind,
            prediction_id=prediction_id,
            model=_model(state, kind),
            ratios=cast(BaseModel, body).model_dump(exclude_unset=True),
        )
        forget_predictions_after_commit(
            session, state.store, tenant.organization_id, kind, [prediction_id]
        )
        return prediction_body(row, kind)

    def delete_prediction(
        prediction_id: uuid.UUID, tenant: TenantDep, session: SessionDep, state: StateDep
    ) -> Any:
        _existing(session, tenant, prediction_id)
        predictions.delete_prediction(
            session, organization_id=tenant.organization_id, kind=kind, prediction_id=prediction_id
        )
        forget_predictions_after_commit(
            session, state.store, tenant.organization_id, kind, [prediction_id]
        )
        return {"message": "prediction deleted"}

    label = kind.capitalize()
    a_kind = f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"  # an annual, a quarterly
    path = f"/{kind}"
    router.add_api_route(
        path,
        create_prediction,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=public,
        name=f"create_{kind}_prediction",
        summary=f"Score and store {a_kind} prediction",
        description=f"{label} ratios in, probability of default out (analysts and above). "
        "The company is given by company_id, or by company_symbol (created on first use). "
        "A second prediction for the same company and period answers 409 with existing_id.",
    )
    router.add_api_route(
        path,
        list_predictions,
        methods=["GET"],
        response_model=PagePublic[read],  # type: ignore[valid-type]
        response_model_exclude_unset=True,  # cumulative_pd only with ?horizon=
        name=f"list_{kind}_predictions",
        summary=f"List {kind} predictions",
        description=f"One page of your organization's {kind} predictions, newest first. "
        "Every filter is optional and they combine: `company_id`; `symbol` (the company's "
        "ticker, any case); `reporting_year`; "
        + (
            "`reporting_quarter` (1-4 or Q1-Q4); "
            if kind == "quarterly"
            else "(`reporting_quarter` does not apply to annual predictions and is ignored); "
        )
        + "`risk_level` (LOW, MEDIUM, HIGH, CRITICAL); `created_from` and `created_to` (ISO "
        "8601 times, both inclusive); `job_id` (what one bulk-upload job stored). `sort` is "
        "created_at, reporting_year, probability or "
        "risk_level, with a leading `-` for descending (default `-created_at`); `page` counts "
        "from 1 and `size` is 1 to 100 (default 20). `horizon` (1 to 5) adds each "
        "prediction's `cumulative_pd` for 1..horizon years. Every role may list.",
        responses=LIST_ERROR_RESPONSES,
    )
    router.add_api_route(
        path + "/{prediction_id}",
        get_prediction,
        methods=["GET"],
        response_model=read,
        name=f"get_{kind}_prediction",
        summary=f"Read {a_kind} prediction",
        description="Supports ETag / If-None-Match. `horizon` (1 to 5) adds `cumulative_pd`: "
        "the cumulative PDs for 1..horizon years, 1y being `probability`.",
    )
    router.add_api_route(
        path + "/{prediction_id}",
        update_prediction,
        methods=["PUT"],
        response_model=public,
        name=f"update_{kind}_prediction",
        summary=f"Change ratios and rescore {a_kind} prediction",
        description="Rescores with the current model (analysts and above).",
    )
    router.add_api_route(
        path + "/{prediction_id}",
        delete_prediction,
        methods=["DELETE"],
        response_model=Message,
        name=f"delete_{kind}_prediction",
        summary=f"Delete {a_kind} prediction",
        description="Analysts and above.",
    )


_add_routes(
    "annual",
    AnnualPredictionCreate,
    AnnualPredictionUpdate,
    AnnualPredictionPublic,
    AnnualPredictionRead,
)
_add_routes(
    "quarterly",
    QuarterlyPredictionCreate,
    QuarterlyPredictionUpdate,
    QuarterlyPredictionPublic,
    QuarterlyPredictionRead,
)
