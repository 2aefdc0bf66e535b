"""/predictions/bulk-upload and /predictions/jobs: upload a file, follow it, download results."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from accunode_cli.errors import InputError, UsageError
from accunode_cli.server.deps import SessionDep, StateDep, TenantDep, ensure_role
from accunode_cli.server.jobs_service import (
    accept_upload,
    job_body,
    job_drift_body,
    job_outputs,
    remove_job,
)
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    LIST_ERROR_RESPONSES,
    Message,
    PagePublic,
)
from accunode_cli.server.schemas.jobs import (
    JobDriftPublic,
    JobPublic,
    JobStatus,
    OnConflict,
    PercentMode,
    ResultFormat,
)
from accunode_cli.storage import jobs
from accunode_cli.tabular.column_map import read_column_map

router = APIRouter(prefix="/predictions", tags=["jobs"], responses=ERROR_RESPONSES)

_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@router.post(
    "/bulk-upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    summary="Upload a file of companies to score and store",
    description="Any format `accunode bulk-score` reads (CSV and its dialects, .gz, TSV, XLSX, "
    "Parquet, JSON lines), columns matched the same way. The header is checked first: a file "
    "with no usable columns answers 422 and creates no job; a file over "
    "ACCUNODE_MAX_UPLOAD_BYTES answers 413. Analysts and above; at most "
    "ACCUNODE_MAX_ACTIVE_JOBS queued or running jobs per organization (429).",
)
async def bulk_upload(
    tenant: TenantDep,
    state: StateDep,
    file: Annotated[UploadFile, File(description="The table to score")],
    kind: Annotated[
        str | None,
        Form(pattern="^(annual|quarterly)$", description="Default: inferred from the columns"),
    ] = None,
    on_conflict: Annotated[
        OnConflict, Form(description="A company and period already stored: skip or replace")
    ] = "skip",
    sheet: Annotated[str | None, Form(max_length=100, description="Excel sheet")] = None,
    reporting_year: Annotated[
        int | None, Form(ge=1900, le=2200, description="Year of rows when no such column")
    ] = None,
    reporting_quarter: Annotated[
        str | None, Form(pattern="^[Qq]?[1-4]$", description="Quarter of rows when no column")
    ] = None,
    percent: Annotated[
        PercentMode | None,
        Form(
            description="Percentage ratios are `fraction`s (0.35 for 35 %: multiplied by 100; "
            "a cell with a % sign is left as it is) or `points` (35; no check). Default: the "
            "first rows are checked and the job's `warnings` say when they look like fractions"
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        Form(ge=1, le=1_000_000, description="Excel: the header's row number (default: found)"),
    ] = None,
    column_map: Annotated[
        list[str] | None,
        Form(
            alias="map",
            description="`HEADER=ratio_name`: read column HEADER as that ratio (repeatable), as "
            "`bulk-score --map`",
        ),
    ] = None,
) -> Any:
    ensure_role(tenant, "analyst")
    mapping = _column_map(column_map or [])
    job = await run_in_threadpool(
        accept_upload,
        state,
        tenant,
        file,
        options={
            "kind": kind,
            "on_conflict": on_conflict,
            "sheet": sheet,
            "reporting_year": reporting_year,
            "reporting_quarter": reporting_quarter,
            "percent": percent,
            "header_row": header_row,
            "column_map": mapping,
        },
    )
    return job_body(job)


def _column_map(items: list[str]) -> dict[str, str]:
    """Read the upload's ``map`` fields as bulk-score reads --map; a bad one is a 422."""
    try:
        return read_column_map(tuple(items))
    except UsageError as error:
        message = error.message.replace("--map", "map")
        if ", e.g." in message:  # the syntax, as a form field gives it
            message = message.split(", e.g.")[0] + (
                "; send one map field per column, e.g. map=PROF_MARGIN=net_income_margin"
            )
        raise InputError(message, details={"field": "map", **error.details}) from error


@router.get(
    "/jobs",
    response_model=PagePublic[JobPublic],
    summary="List the organization's bulk-upload jobs",
    description="Newest first; filter by status.",
    responses=LIST_ERROR_RESPONSES,
)
def list_jobs(
    tenant: TenantDep,
    session: SessionDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page")] = 1,
    size: Annotated[int, Query(ge=1, le=100, description="Jobs per page (at most 100)")] = 20,
) -> Any:
    result = jobs.list_jobs(
        session, organization_id=tenant.organization_id, status=status, page=page, size=size
    )
    items = [job_body(job) for job in result.items]
    return {"items": items, "total": result.total, "page": result.page, "size": result.size}


@router.get("/jobs/{job_id}", response_model=JobPublic, summary="Read a job and its progress")
def get_job(job_id: uuid.UUID, tenant: TenantDep, session: SessionDep) -> Any:
    return job_body(jobs.get_job(session, organization_id=tenant.organization_id, job_id=job_id))


@router.get(
    "/jobs/{job_id}/results",
    summary="Download a job's results",
    description="One row per input row, in input order: the input columns, then probability, "
    "risk_level, implied_rating, model_version, flags, error, prediction_id and status "
    "(stored, replaced, conflict, rejected). Streamed. 409 while the job is queued or running.",
    response_class=StreamingResponse,
    responses={200: {"content": {_MEDIA["csv"]: {}, _MEDIA["parquet"]: {}}}},
)
def job_results(
    job_id: uuid.UUID,
    tenant: TenantDep,
    state: StateDep,
    format: Annotated[ResultFormat, Query(description="csv or parquet")] = "csv",
) -> StreamingResponse:
    stream, name = job_outputs(state, tenant, job_id, "results", format)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(stream, media_type=_MEDIA[format], headers=headers)


@router.get(
    "/jobs/{job_id}/errors",
    summary="Download a job's rejected rows (CSV: row, column, value, reason)",
    response_class=StreamingResponse,
    responses={200: {"content": {_MEDIA["csv"]: {}}}},
)
def job_errors(job_id: uuid.UUID, tenant: TenantDep, state: StateDep) -> StreamingResponse:
    stream, name = job_outputs(state, tenant, job_id, "errors", "csv")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(stream, media_type=_MEDIA["csv"], headers=headers)


@router.get(
    "/jobs/{job_id}/drift",
    response_model=JobDriftPublic,
    summary="Population drift of a finished job's rows",
    description="The summary `accunode drift --json` gives on the job's file: the PSI of every "
    "ratio and of the score on the model's own bins against its training data, each marked "
    "stable (< 0.10), watch (0.10-0.25) or shifted (> 0.25), the shift in missing and "
    "not-meaningful shares, and the mean PD. Over the chunks done (all of them once the job "
    "succeeded). 409 while the job is queued or running.",
)
def job_drift(job_id: uuid.UUID, tenant: TenantDep, state: StateDep) -> Any:
    return job_drift_body(state, tenant, job_id)


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobPublic,
    summary="Cancel a queued or running job",
    description="Stops between chunks; what is stored stays stored and the job says how much. "
    "Analysts and above; 409 when the job is already over.",
)
def cancel_job(job_id: uuid.UUID, tenant: TenantDep, session: SessionDep) -> Any:
    jobs.get_job(session, organization_id=tenant.organization_id, job_id=job_id)
    ensure_role(tenant, "analyst")
    return job_body(jobs.cancel_job(session, organization_id=tenant.organization_id, job_id=job_id))


@router.delete(
    "/jobs/{job_id}",
    response_model=Message,
    summary="Delete a job and its file",
    description="Its predictions stay (they no longer name a job). Analysts and above.",
)
def delete_job(job_id: uuid.UUID, tenant: TenantDep, state: StateDep) -> Any:
    remove_job(state, tenant, job_id)
    return {"message": "job deleted"}
