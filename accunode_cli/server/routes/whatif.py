"""/predictions/annual/what-if and /quarterly/what-if: score under a scenario, store nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.exceptions import HTTPException as StarletteHTTPException

from accunode_cli.analytics import load_scenario, scenario_from_shocks, stress_one
from accunode_cli.errors import InputError, ServiceUnavailableError
from accunode_cli.server.deps import StateDep, TenantDep
from accunode_cli.server.schemas import ERROR_RESPONSES
from accunode_cli.server.schemas.whatif import AnnualWhatIf, QuarterlyWhatIf, WhatIfPublic
from accunode_cli.server.state import AppState

__all__ = ["router", "annual_what_if", "quarterly_what_if"]

router = APIRouter(prefix="/predictions", tags=["predictions"], responses=ERROR_RESPONSES)


def _what_if(state: AppState, kind: str, body: AnnualWhatIf | QuarterlyWhatIf) -> dict[str, Any]:
    model = state.models.get(kind)
    if model is None:
        raise ServiceUnavailableError(f"the {kind} model is not loaded")
    if body.shocks is not None:
        other = sorted(set(body.shocks) - set(model.ratio_names))
        if other:
            raise InputError(
                f"shocks name {', '.join(other)}, not {kind} ratios; use "
                f"{', '.join(model.ratio_names)}",
                details={"field": "shocks", "ratios": list(model.ratio_names)},
            )
        scenario = scenario_from_shocks(body.shocks, name="custom")
    else:
        assert body.scenario is not None  # the schema asks for one of the two
        scenario = load_scenario(body.scenario)  # a shipped name only: the schema lists them
    ratios = {name: getattr(body, name) for name in model.ratio_names}
    return stress_one(model, ratios, scenario, sector=body.sector, horizon=body.horizon)


@router.post(
    "/annual/what-if",
    response_model=WhatIfPublic,
    name="annual_what_if",
    summary="Score annual ratios under a stress scenario (nothing stored)",
    description="Baseline and stressed PD, risk level, rating and cumulative PDs. Any role.",
)
def annual_what_if(body: AnnualWhatIf, tenant: TenantDep, state: StateDep) -> dict[str, Any]:
    """Score annual ratios as they are and under a scenario."""
    return _what_if(state, "annual", body)


@router.post(
    "/quarterly/what-if",
    response_model=WhatIfPublic,
    name="quarterly_what_if",
    summary="Score quarterly ratios under a stress scenario (nothing stored)",
    description="Baseline and stressed PD, risk level, rating and cumulative PDs. Any role.",
)
def quarterly_what_if(body: QuarterlyWhatIf, tenant: TenantDep, state: StateDep) -> dict[str, Any]:
    """Score quarterly ratios as they are and under a scenario."""
    return _what_if(state, "quarterly", body)


def what_if_method_not_allowed() -> None:
    """Answer 405 Method Not Allowed: a what-if path takes POST only."""
    raise StarletteHTTPException(status_code=405)


# Without these, GET/PUT/DELETE on .../what-if would reach the /{prediction_id} routes (and
# answer 404 or 422 for an id "what-if"); this router is mounted before the predictions router.
for _kind in ("annual", "quarterly"):
    router.add_api_route(
        f"/{_kind}/what-if",
        what_if_method_not_allowed,
        methods=["GET", "PUT", "DELETE"],
        include_in_schema=False,
    )
