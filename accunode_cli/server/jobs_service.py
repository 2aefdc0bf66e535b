"""The glue of the job routes: take an upload in, present a job, stream its outputs."""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from fastapi.encoders import jsonable_encoder

from accunode_cli.errors import ConflictError, PayloadTooLargeError, ServiceUnavailableError
from accunode_cli.jobs import files
from accunode_cli.jobs.results import (
    stream_errors_csv,
    stream_results_csv,
    stream_results_parquet,
)
from accunode_cli.server.deps import Tenant, ensure_role
from accunode_cli.server.state import AppState
from accunode_cli.storage import jobs
from accunode_cli.storage.db import new_id
from accunode_cli.storage.models import Job

__all__ = ["accept_upload", "job_body", "job_outputs", "job_drift_body", "remove_job"]

_BLOCK = 1 << 20
log = logging.getLogger("accunode.server")


def job_body(job: Job) -> dict[str, Any]:
    """Return the public fields of a job, with its progress and speed."""
    seconds = None
    if job.started_at is not None and job.finished_at is not None:
        seconds = max((job.finished_at - job.started_at).total_seconds(), 0.0)
    total = job.rows_total
    progress = 1.0 if job.status == "succeeded" else 0.0
    if total and job.status != "succeeded":
        progress = min(job.rows_processed / total, 1.0)
    fields = (
        "id", "status", "kind", "on_conflict", "file_name", "file_bytes", "rows_total",
        "rows_processed", "rows_stored", "rows_replaced", "rows_rejected", "rows_conflicting",
        "created_by", "created_at", "started_at", "finished_at", "error", "percent",
        "header_row",
    )  # fmt: skip
    body = {name: getattr(job, name) for name in fields}
    body["warnings"] = list(job.warnings or [])
    body["column_map"] = dict(job.column_map or {})
    body["progress"] = progress
    body["seconds"] = round(seconds, 3) if seconds is not None else None
    body["rows_per_second"] = (
        round(job.rows_processed / seconds, 1) if seconds and job.rows_processed else None
    )
    return jsonable_encoder(body)


def _file_name(upload: UploadFile) -> str:
    name = Path(upload.filename or "upload").name.strip() or "upload"
    return name[-255:]


def _spool(upload: UploadFile, folder: Path, name: str, limit: int) -> tuple[Path, int]:
    """Copy the upload to a local file (its suffix kept for sniffing); refuse one over limit."""
    target = folder / ("input" + "".join(Path(name).suffixes[-2:])[:16])
    size = 0
    with open(target, "wb") as sink:
        while block := upload.file.read(_BLOCK):
            size += len(block)
            if size > limit:
                raise PayloadTooLargeError(
                    f"the upload is larger than {limit} bytes (ACCUNODE_MAX_UPLOAD_BYTES)",
                    details={"limit": limit},
                )
            sink.write(block)
    return target, size


def accept_upload(
    state: AppState, tenant: Tenant, upload: UploadFile, *, options: dict[str, Any]
) -> Job:
    """Check an upload's header, store the file, create the job and hand it out."""
    if state.job_context is None or state.executor is None:
        raise ServiceUnavailableError("bulk-upload jobs are not running in this process")
    settings = state.settings
    with state.sessions() as session:  # refuse early, before the file is copied anywhere
        jobs.check_active_limit(
            session, organization_id=tenant.organization_id, limit=settings.max_active_jobs
        )
    name = _file_name(upload)
    blobs = state.job_context.blobs
    with tempfile.TemporaryDirectory(prefix="accunode-upload-") as folder:
        path, size = _spool(upload, Path(folder), name, settings.max_upload_bytes)
        quarter = options["reporting_quarter"]
        check = files.check_upload(
            path,
            name=name,
            kind=options["kind"],
            sheet=options["sheet"],
            reporting_year=options["reporting_year"],
            reporting_quarter=quarter,
            header_row=options.get("header_row"),
            column_map=options.get("column_map"),
        )
        job_id = new_id()
        key = files.input_key(job_id, name)
        with open(path, "rb") as source:
            blobs.put_stream(key, source)
    values = {
        "id": job_id,
        "created_by": tenant.user_id,
        "kind": check.kind,
        "on_conflict": options["on_conflict"],
        "file_name": name,
        "file_bytes": size,
        "sheet": options["sheet"],
        "reporting_year": options["reporting_year"],
        "reporting_quarter": ("Q" + quarter[-1]) if quarter else None,
        "blob_key": key,
        "percent": options.get("percent"),
        "header_row": options.get("header_row"),
        "column_map": options.get("column_map") or None,
    }
    try:
        with state.sessions() as session, session.begin():
            job = jobs.create_job(
                session,
                organization_id=tenant.organization_id,
                max_active=settings.max_active_jobs,
                values=values,
            )
    except BaseException:
        blobs.delete_tree(f"jobs/{job_id}")
        raise
    try:
        state.executor.submit(job.id)
    except Exception:  # the broker is away: the workers' sweep hands the job out later
        log.warning("job not queued; it will be handed out by the sweep", exc_info=True)
    return job


def _done_chunks(state: AppState, tenant: Tenant, job_id: uuid.UUID) -> tuple[Job, list[int]]:
    with state.sessions() as session:
        job = jobs.get_job(session, organization_id=tenant.organization_id, job_id=job_id)
        if job.status in ("queued", "running"):
            raise ConflictError(
                f"the job is still {job.status}; its results are ready when it ends",
                details={"id": str(job.id), "status": job.status},
            )
        numbers = [chunk.number for chunk in jobs.chunks_of(session, job.id) if chunk.done]
    return job, numbers


def job_outputs(
    state: AppState, tenant: Tenant, job_id: uuid.UUID, what: str, format: str
) -> tuple[Iterator[bytes], str]:
    """Return a stream of a finished job's results or errors and its download name."""
    job, numbers = _done_chunks(state, tenant, job_id)
    assert state.job_context is not None
    blobs = state.job_context.blobs
    stem = "".join(c for c in job.file_name.split(".")[0] if c.isalnum() or c in "-_")[:80]
    stem = stem or "job"  # a header-safe download name
    if what == "errors":
        return stream_errors_csv(blobs, job.id, numbers), f"{stem}.errors.csv"
    if format == "parquet":
        return stream_results_parquet(blobs, job.id, numbers), f"{stem}.scored.parquet"
    return stream_results_csv(blobs, job.id, numbers), f"{stem}.scored.csv"


def _ratio_batches(blobs: Any, job: Job, numbers: list[int]) -> Iterator[dict[str, Any]]:
    """Yield each done chunk's raw ratio columns, exactly as the runner gave them the model."""

    for number in numbers:
        batch = files.read_part(blobs, files.part_key(job.id, number))
        yield files.prepare_job_batch(job, batch)[1]


def job_drift_body(state: AppState, tenant: Tenant, job_id: uuid.UUID) -> dict[str, Any]:
    """Return the drift of a finished job's rows against the model's training data.

    The stored input parts are read as the chunks were scored (the job's decimal-comma
    decision included), one part in memory at a time: the report equals ``accunode drift``'s
    on the uploaded file.
    """
    from accunode_cli.analytics import drift_of_batches

    job, numbers = _done_chunks(state, tenant, job_id)
    context = state.job_context
    if context is None:
        raise ServiceUnavailableError("bulk-upload jobs are not running in this process")
    report = drift_of_batches(context.model(job.kind), _ratio_batches(context.blobs, job, numbers))
    return {"job_id": str(job.id), **report.to_dict()}


def remove_job(state: AppState, tenant: Tenant, job_id: uuid.UUID) -> None:
    """Delete a job (cancelling it first when active) and its files."""
    with state.sessions() as session, session.begin():
        jobs.get_job(session, organization_id=tenant.organization_id, job_id=job_id)
        ensure_role(tenant, "analyst")
        jobs.delete_job(session, organization_id=tenant.organization_id, job_id=job_id)
    if state.job_context is not None:
        state.job_context.blobs.delete_tree(f"jobs/{job_id}")
