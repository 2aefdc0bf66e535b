"""Where chunks run: a thread of the API process (embedded), or dramatiq's Redis broker.

Both hand out the same two kinds of work, ``prepare`` (split a job, then hand out its chunks)
and ``chunk``; the database decides what is left to do, so handing work out twice is harmless.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from datetime import timedelta
from typing import Protocol

from accunode_cli.jobs.context import JobContext
from accunode_cli.jobs.runner import prepare_job, run_chunk

__all__ = ["Executor", "ThreadExecutor", "resume_jobs"]

log = logging.getLogger("accunode.jobs")
_RETRY_SECONDS = 2.0


class Executor(Protocol):
    """Something that runs a job's work somewhere."""

    def submit(self, job_id: uuid.UUID) -> None:
        """Start (or resume) a job."""

    def close(self) -> None:
        """Stop taking work; finish or hand back the current piece."""


def resume_jobs(ctx: JobContext, executor: Executor, *, idle: timedelta | None = None) -> int:
    """Hand out again every active job (idle that long, when given); return how many."""
    from accunode_cli.storage import jobs as job_rows

    with ctx.sessions() as session, session.begin():
        found = job_rows.stale_jobs(session, older_than=idle)
        for job in found:
            job_rows.touch_job(session, job_id=job.id)
        ids = [job.id for job in found]
    for job_id in ids:
        executor.submit(job_id)
    return len(ids)


class ThreadExecutor:
    """Run jobs one piece at a time in a background thread of this process (no Redis)."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._work: queue.Queue[tuple[str, uuid.UUID]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="accunode-jobs", daemon=True)

    def start(self) -> None:
        """Start the thread and resume the jobs a previous run left unfinished."""
        self._thread.start()
        resumed = resume_jobs(self.ctx, self)
        if resumed:
            log.info("jobs resumed", extra={"operation": f"{resumed} unfinished job(s)"})

    def submit(self, job_id: uuid.UUID) -> None:
        """Queue a job's preparation (its chunks follow)."""
        self._work.put(("prepare", job_id))

    def close(self, timeout: float = 25.0) -> None:
        """Stop after the current piece (what is left resumes on the next start)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def idle(self) -> bool:
        """Tell whether nothing is queued (for tests and benchmarks)."""
        return self._work.unfinished_tasks == 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                kind, item = self._work.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._run(kind, item)
            except Exception:  # the database is gone, say: try again a little later
                log.exception("job work failed; retrying", extra={"operation": f"{kind} {item}"})
                if not self._stop.wait(_RETRY_SECONDS):
                    self._work.put((kind, item))
            finally:
                self._work.task_done()

    def _run(self, kind: str, item: uuid.UUID) -> None:
        if kind == "prepare":
            for chunk_id in prepare_job(self.ctx, item):
                self._work.put(("chunk", chunk_id))
        else:
            run_chunk(self.ctx, item)
