"""Bulk-upload jobs and their chunks: the one source of truth for progress and recovery.

Tenant-facing functions take ``organization_id`` as a required keyword; the runner's
functions (claiming a chunk, finishing a job) work by id and are called only by the workers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from accunode_cli.errors import ConflictError, RateLimitedError
from accunode_cli.storage.common import Page, get_scoped, paginate
from accunode_cli.storage.db import utcnow
from accunode_cli.storage.models import ACTIVE_JOB_STATUSES, Job, JobChunk
from accunode_cli.storage.predictions import PREDICTION_CLASSES

__all__ = [
    "check_active_limit",
    "create_job",
    "get_job",
    "list_jobs",
    "cancel_job",
    "delete_job",
    "add_chunks",
    "start_attempt",
    "lock_chunk",
    "chunks_of",
    "unfinished_chunks",
    "record_chunk",
    "fail_job",
    "stale_jobs",
    "touch_job",
    "waiting_work",
]


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def check_active_limit(session: Session, *, organization_id: uuid.UUID, limit: int) -> None:
    """Raise RateLimitedError when the organization has ``limit`` queued or running jobs."""
    active = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.organization_id == organization_id, Job.status.in_(ACTIVE_JOB_STATUSES))
    )
    if int(active or 0) >= limit:
        raise RateLimitedError(
            f"this organization already has {active} queued or running jobs (at most "
            f"{limit}); wait for one to finish or cancel one",
            details={"active_jobs": int(active or 0), "limit": limit, "retry_after": 30},
        )


def create_job(
    session: Session, *, organization_id: uuid.UUID, max_active: int, values: dict[str, Any]
) -> Job:
    """Create a queued job unless the organization already has ``max_active`` active ones.

    The organization row is locked first (PostgreSQL), so two concurrent uploads cannot
    both pass the count; SQLite serialises writers anyway.
    """
    from accunode_cli.storage.models import Organization

    session.execute(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )
    check_active_limit(session, organization_id=organization_id, limit=max_active)
    job = Job(organization_id=organization_id, status="queued", **values)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, organization_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Return a job of the organization or raise NotFoundError."""
    return get_scoped(session, Job, organization_id=organization_id, id=job_id)


def list_jobs(
    session: Session,
    *,
    organization_id: uuid.UUID,
    status: str | None = None,
    page: int = 1,
    size: int = 20,
) -> Page[Job]:
    """Return one page of the organization's jobs, newest first."""
    query = select(Job).where(Job.organization_id == organization_id)
    if status:
        query = query.where(Job.status == status)
    query = query.order_by(Job.created_at.desc(), Job.id.desc())
    return paginate(session, query, page=page, size=size)


def cancel_job(session: Session, *, organization_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Cancel a queued or running job (chunks stop between chunks); ConflictError if over."""
    job = get_job(session, organization_id=organization_id, job_id=job_id)
    now = utcnow()
    changed = _rowcount(
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status.in_(ACTIVE_JOB_STATUSES))
            .values(status="cancelled", finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not changed:
        session.refresh(job)
        raise ConflictError(
            f"the job is already {job.status}", details={"id": str(job.id), "status": job.status}
        )
    session.refresh(job)
    return job


def delete_job(session: Session, *, organization_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Delete a job and its chunks; its predictions stay, with no job.

    ``job_id`` on predictions has no foreign key (a job writes millions of rows), so the
    predictions are cleared here. The job row goes first: that waits for a chunk being stored
    (it holds the job's row), and the clearing statement that follows then sees its rows.
    """
    job = get_job(session, organization_id=organization_id, job_id=job_id)
    session.execute(delete(Job).where(Job.id == job.id))
    for cls in PREDICTION_CLASSES.values():
        session.execute(
            update(cls)
            .where(cls.organization_id == organization_id, cls.job_id == job.id)
            .values(job_id=None)
        )
    return job


def add_chunks(session: Session, *, job_id: uuid.UUID, split: Any) -> bool:
    """Record a queued job's chunks (a :class:`accunode_cli.jobs.files.Split`: chunks as
    (number, first row, rows), and what its first batch decided) and mark it running.

    Returns False (and records nothing) when the job is no longer queued: cancelled,
    deleted, or already split by another worker.
    """
    now = utcnow()
    changed = _rowcount(
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(
                status="running",
                rows_total=split.rows,
                chunks_total=len(split.chunks),
                decimal_comma=split.decimal_comma,
                to_points=list(split.to_points),
                warnings=split.warnings or None,
                started_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if not changed:
        return False
    session.add_all(
        JobChunk(job_id=job_id, number=number, first_row=first, rows=rows)
        for number, first, rows in split.chunks
    )
    session.flush()
    return True


def start_attempt(session: Session, chunk_id: uuid.UUID) -> tuple[JobChunk, Job] | None:
    """Count an attempt at a chunk; return it and its job, or None when there is nothing to
    do (the chunk is done or gone, or its job is no longer running)."""
    session.execute(
        update(JobChunk)
        .where(JobChunk.id == chunk_id, JobChunk.done.is_(False))
        .values(attempts=JobChunk.attempts + 1)
    )
    return _to_run(session, session.get(JobChunk, chunk_id))


def lock_chunk(session: Session, chunk_id: uuid.UUID) -> tuple[JobChunk, Job] | None:
    """Lock a chunk row until the transaction ends; None when it is done or its job is over.

    A second worker handed the same chunk waits here, then finds it done.
    """
    return _to_run(
        session, session.scalar(select(JobChunk).where(JobChunk.id == chunk_id).with_for_update())
    )


def _to_run(session: Session, chunk: JobChunk | None) -> tuple[JobChunk, Job] | None:
    if chunk is None or chunk.done:
        return None
    job = session.get(Job, chunk.job_id)
    if job is None or job.status != "running":
        return None
    return chunk, job


def chunks_of(session: Session, job_id: uuid.UUID) -> list[JobChunk]:
    """Return every chunk of a job in row order."""
    query = select(JobChunk).where(JobChunk.job_id == job_id).order_by(JobChunk.number)
    return list(session.scalars(query))


def unfinished_chunks(session: Session, job_id: uuid.UUID) -> list[uuid.UUID]:
    """Return the ids of a job's chunks that are not done, in row order."""
    query = (
        select(JobChunk.id)
        .where(JobChunk.job_id == job_id, JobChunk.done.is_(False))
        .order_by(JobChunk.number)
    )
    return list(session.scalars(query))


def record_chunk(session: Session, *, chunk: JobChunk, counts: dict[str, int]) -> str | None:
    """Mark a locked chunk done and add its counts to its job; return the job's new status.

    Returns None when the job stopped running meanwhile (cancelled, deleted): the caller
    rolls back. The job row's update is atomic, so the last chunk of many concurrent ones
    finds ``chunks_done == chunks_total`` exactly once.
    """
    now = utcnow()
    row = session.execute(
        update(Job)
        .where(Job.id == chunk.job_id, Job.status == "running")
        .values(
            rows_processed=Job.rows_processed + counts["processed"],
            rows_stored=Job.rows_stored + counts["stored"],
            rows_replaced=Job.rows_replaced + counts["replaced"],
            rows_rejected=Job.rows_rejected + counts["rejected"],
            rows_conflicting=Job.rows_conflicting + counts["conflict"],
            chunks_done=Job.chunks_done + 1,
            updated_at=now,
        )
        .returning(Job.chunks_done, Job.chunks_total)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    chunk.done = True
    chunk.finished_at = now
    if row.chunks_done >= (row.chunks_total or 0):
        session.execute(
            update(Job)
            .where(Job.id == chunk.job_id)
            .values(status="succeeded", finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return "succeeded"
    return "running"


def fail_job(session: Session, *, job_id: uuid.UUID, message: str) -> None:
    """Mark an active job failed with a message a person can act on."""
    now = utcnow()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        .values(status="failed", error=message[:1000], finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def touch_job(session: Session, *, job_id: uuid.UUID) -> None:
    """Record that a worker is busy with the job (its staleness clock restarts)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def stale_jobs(session: Session, *, older_than: timedelta | None = None) -> list[Job]:
    """Return active jobs (oldest first); with ``older_than``, only those idle that long."""
    query = select(Job).where(Job.status.in_(ACTIVE_JOB_STATUSES))
    if older_than is not None:
        cutoff: datetime = utcnow() - older_than
        query = query.where(or_(Job.updated_at < cutoff))
    return list(session.scalars(query.order_by(Job.created_at)))


def waiting_work(session: Session) -> tuple[int, int]:
    """Return (chunks of running jobs not done, queued jobs not yet split), over every tenant.

    Two counts for the metrics' queue depth, nothing of any tenant; cheap (the job status index,
    then the chunks' (job, number) index).
    """
    chunks = session.scalar(
        select(func.count())
        .select_from(JobChunk)
        .join(Job, Job.id == JobChunk.job_id)
        .where(Job.status == "running", JobChunk.done.is_(False))
    )
    queued = session.scalar(select(func.count()).select_from(Job).where(Job.status == "queued"))
    return int(chunks or 0), int(queued or 0)
