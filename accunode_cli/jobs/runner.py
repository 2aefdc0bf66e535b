"""Run a job: split it into chunks once, then score and store each chunk exactly once.

A chunk's predictions, its result part and its done-mark commit in one transaction under a
lock on the chunk row, and every prediction carries (job, row number) under a unique
constraint: a chunk handed out twice (a worker killed, a message redelivered) stores
nothing twice. Both executors (the server's thread and ``accunode worker``) call these.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import numpy as np

from accunode_cli.errors import AccuNodeError
from accunode_cli.jobs.context import JobContext
from accunode_cli.jobs.files import (
    PART_OPTIONS,
    errors_key,
    part_key,
    prepare_job_batch,
    read_part,
    result_key,
    split_upload,
)
from accunode_cli.jobs.identity import identity_columns, read_identities
from accunode_cli.services.bulk import ChunkOutcome, ChunkRows, plan_chunk, store_chunk
from accunode_cli.storage import jobs as job_rows
from accunode_cli.storage.models import ACTIVE_JOB_STATUSES, Job, JobChunk

__all__ = ["prepare_job", "run_chunk", "MAX_ATTEMPTS"]

log = logging.getLogger("accunode.jobs")
MAX_ATTEMPTS = 5  # a chunk that fails this often fails its job
_PERMANENT = ("unreadable_file", "bad_columns")


def prepare_job(ctx: JobContext, job_id: uuid.UUID) -> list[uuid.UUID]:
    """Split a queued job into chunks (once); return the ids of its chunks still to run."""
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        if job is None or job.status not in ACTIVE_JOB_STATUSES:
            return []
        queued = job.status == "queued"
        details = (job.blob_key, job.file_name, job.kind, job.sheet, job.percent)
        header_row, column_map = job.header_row, job.column_map
    if queued:
        key, name, kind, sheet, percent = details
        try:
            split = split_upload(
                ctx.blobs,
                job_id=job_id,
                key=key,
                name=name,
                kind=kind,
                sheet=sheet,
                model=ctx.model(kind),
                percent=percent,
                header_row=header_row,
                column_map=column_map,
            )
        except AccuNodeError as error:
            _fail(ctx, job_id, error.message)
            return []
        except Exception as error:
            if _database_lost(error):
                raise
            log.exception("job split failed", extra={"operation": f"job {job_id}"})
            _fail(ctx, job_id, f"{name} could not be read (an internal error; see the log)")
            return []
        with ctx.sessions() as session, session.begin():
            job_rows.add_chunks(session, job_id=job_id, split=split)
        log.info("job split", extra={"operation": f"job {job_id}: {len(split.chunks)} chunks"})
    with ctx.sessions() as session:
        return job_rows.unfinished_chunks(session, job_id)


def _fail(ctx: JobContext, job_id: uuid.UUID, message: str) -> None:
    with ctx.sessions() as session, session.begin():
        job_rows.fail_job(session, job_id=job_id, message=message)
    log.warning("job failed", extra={"operation": f"job {job_id}", "error_type": message[:200]})


def _start_attempt(ctx: JobContext, chunk_id: uuid.UUID) -> tuple[JobChunk, Job] | None:
    with ctx.sessions() as session, session.begin():
        return job_rows.start_attempt(session, chunk_id)


def run_chunk(ctx: JobContext, chunk_id: uuid.UUID) -> str | None:
    """Score and store one chunk unless it is done or its job is over; return the job's status.

    Reading and scoring happen before the transaction; an unreadable part or a chunk that
    keeps failing fails the job with its reason. A lost database raises (the executor
    retries later).
    """
    started = _start_attempt(ctx, chunk_id)
    if started is None:
        return None
    chunk, job = started
    where = f"job {job.id} chunk {chunk.number} attempt {chunk.attempts}"
    log.info("chunk started", extra={"operation": where})
    try:
        batch = read_part(ctx.blobs, part_key(job.id, chunk.number))
        with ctx.cpu:
            match, raw = prepare_job_batch(job, batch)
            rows = ChunkRows(
                kind=job.kind,
                organization_id=job.organization_id,
                created_by=job.created_by,
                job_id=job.id,
                first_row=chunk.first_row,
                on_conflict=job.on_conflict,
                raw=raw,
                identities=read_identities(
                    batch,
                    kind=job.kind,
                    reporting_year=job.reporting_year,
                    reporting_quarter=job.reporting_quarter,
                ),
            )
        model = ctx.model(job.kind)
        with ctx.sessions() as session, session.begin():  # the companies commit on their own
            plan = plan_chunk(session, model=model, chunk=rows, cpu=ctx.cpu)
        with ctx.sessions() as session, session.begin():
            locked = job_rows.lock_chunk(session, chunk_id)
            if locked is None:
                return None
            outcome = store_chunk(session, model=model, plan=plan, cpu=ctx.cpu)
            with ctx.cpu:
                outputs = _outputs(batch, outcome, match.columns, chunk.first_row)
            _write_outputs(ctx, job, chunk, outputs)
            status = job_rows.record_chunk(session, chunk=locked[0], counts=outcome.counts)
            if status is None:
                session.rollback()
                return None
        log.info("chunk stored", extra={"operation": where})
        _count_rows(job.kind, outcome.counts)
        _forget_replaced(ctx, job, outcome)
        return status
    except Exception as error:
        if _database_lost(error):
            raise  # not the chunk's fault: it is handed out again later
        message = error.message if isinstance(error, AccuNodeError) else "an internal error"
        permanent = isinstance(error, AccuNodeError) and error.code in _PERMANENT
        if not permanent and chunk.attempts < MAX_ATTEMPTS:
            raise
        last = chunk.first_row + chunk.rows - 1
        _fail(ctx, job.id, f"rows {chunk.first_row}-{last} could not be processed: {message}")
        return "failed"


def _forget_replaced(ctx: JobContext, job: Job, outcome: ChunkOutcome) -> None:
    """Drop the API's cached reads of the predictions this committed chunk replaced."""
    if ctx.store is None or not outcome.counts.get("replaced"):
        return
    from accunode_cli.storage.read_cache import forget_predictions

    replaced = {
        uuid.UUID(str(prediction_id))
        for prediction_id, status in zip(outcome.prediction_ids, outcome.statuses, strict=True)
        if status == "replaced"
    }
    try:
        forget_predictions(ctx.store, job.organization_id, job.kind, sorted(replaced))
    except Exception:  # the cache is away: its entries expire within a minute anyway
        log.warning("read cache not told of replaced rows", extra={"operation": f"job {job.id}"})


def _count_rows(kind: str, counts: dict[str, int]) -> None:
    """Count a committed chunk's rows in the metrics: scored (stored, replaced or in conflict
    with a stored prediction) and rejected. Only after the commit, so a chunk handed out twice
    counts once."""
    from accunode_cli.metrics import count_job_rows

    rejected = counts["rejected"]
    count_job_rows(kind, scored=counts["processed"] - rejected, rejected=rejected)


def _database_lost(error: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


def _outputs(
    batch: Any, outcome: ChunkOutcome, ratio_columns: dict[str, str], first_row: int
) -> tuple[Any, Any]:
    """The chunk's results table (input columns, then the scores and each row's status) and
    its rejected rows."""
    import pyarrow as pa

    outputs = outcome.scored.to_arrow()
    columns = list(batch.columns) + [
        outputs.column(name).combine_chunks() for name in outputs.schema.names if name != "error"
    ]
    names = list(batch.schema.names) + [n for n in outputs.schema.names if n != "error"]
    columns += [
        pa.array(outcome.errors, pa.string()),
        pa.array(outcome.prediction_ids, pa.string()),
        pa.array(outcome.statuses, pa.string()),
    ]
    names += ["error", "prediction_id", "status"]
    results = pa.Table.from_arrays(columns, names=names)
    return results, _errors_table(batch, outcome, ratio_columns, first_row)


def _write_outputs(ctx: JobContext, job: Job, chunk: JobChunk, outputs: tuple[Any, Any]) -> None:
    import pyarrow.parquet as pq

    results, errors = outputs
    with ctx.blobs.writer(result_key(job.id, chunk.number)) as sink:
        pq.write_table(results, sink, **PART_OPTIONS)
    with ctx.blobs.writer(errors_key(job.id, chunk.number)) as sink:
        pq.write_table(errors, sink, **PART_OPTIONS)


def _errors_table(
    batch: Any, outcome: ChunkOutcome, ratio_columns: dict[str, str], first_row: int
) -> Any:
    import pyarrow as pa

    from accunode_cli.scoring import INVALID

    identity = identity_columns(batch.schema.names)
    scored = outcome.scored
    rows: list[int] = []
    columns: list[str] = []
    values: list[str | None] = []
    reasons: list[str] = []
    for index in np.flatnonzero(np.array(outcome.statuses) == "rejected").tolist():
        problem = outcome.problems[index]
        if problem is not None and problem[0]:
            field, reason, value = problem
            column = identity.get(field, field)
        else:
            invalid = np.flatnonzero(scored.status[index] == INVALID)
            ratio = scored.ratio_names[int(invalid[0])] if invalid.size else None
            column = ratio_columns[ratio] if ratio else ""
            value = batch.column(column)[index].as_py() if ratio else None
            reason = str(outcome.errors[index] or "cannot be scored")
        rows.append(first_row + index)
        columns.append(column)
        values.append(None if value is None else str(value))
        reasons.append(reason)
    return pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "column": pa.array(columns, pa.string()),
            "value": pa.array(values, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        }
    )
