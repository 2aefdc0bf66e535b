"""Bulk-upload jobs on the server: upload a file, follow the job, download results and errors.

Written against the jobs API of issue 9: ``POST /predictions/bulk-upload`` (multipart ``file``,
``kind``, ``on_conflict``, ``sheet``), ``GET /predictions/jobs[/{id}]``,
``GET /predictions/jobs/{id}/results?format=csv|parquet``, ``GET …/errors`` (CSV) and
``POST …/cancel``. The upload streams the file from disk (constant memory) and is never
retried; downloads stream to a temporary file renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from accunode_cli.client.session import RemoteSession
from accunode_cli.errors import AccuNodeError, UnreadableFileError, UsageError

__all__ = [
    "FINISHED",
    "upload_file",
    "list_jobs",
    "get_job",
    "wait_for_job",
    "download",
    "cancel_job",
]

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0)  # poll fast first, then every 2 s


class _CountingReader:
    """A file wrapper that reports how many bytes were read (for the upload's progress bar)."""

    def __init__(self, handle: IO[bytes], on_bytes: Callable[[int], None] | None) -> None:
        self._handle = handle
        self._on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if self._on_bytes is not None and data:
            self._on_bytes(len(data))
        return data

    def fileno(self) -> int:  # lets httpx send a Content-Length
        return self._handle.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()


def _job_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise UsageError(f"{value!r} is not a job id (see accunode job list)") from exc


def upload_file(
    session: RemoteSession,
    path: Path,
    *,
    kind: str | None = None,
    on_conflict: str = "skip",
    sheet: str | None = None,
    reporting_year: int | None = None,
    reporting_quarter: str | None = None,
    percent: str | None = None,
    header_row: int | None = None,
    column_map: dict[str, str] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Upload a table for scoring; return the job the server made (202)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    form = {"on_conflict": on_conflict}
    if kind:
        form["kind"] = kind
    if sheet:
        form["sheet"] = sheet
    if reporting_year is not None:  # the period of every row when the file has no such column
        form["reporting_year"] = str(reporting_year)
    if reporting_quarter:
        form["reporting_quarter"] = reporting_quarter
    if percent:  # "fraction" or "points": how the file gives percentage ratios
        form["percent"] = percent
    if header_row is not None:
        form["header_row"] = str(header_row)
    fields: dict[str, str | list[str]] = dict(form)
    if column_map:  # one "map" field per pair, as the form takes them
        fields["map"] = [f"{header}={ratio}" for header, ratio in column_map.items()]
    with handle:
        files = {"file": (path.name, _CountingReader(handle, on_bytes), "application/octet-stream")}
        response = session.request("POST", "/predictions/bulk-upload", data=fields, files=files)
    return dict(response.json())


def list_jobs(
    session: RemoteSession, *, status: str | None = None, size: int = 20
) -> dict[str, Any]:
    """Return a page of the organization's jobs, newest first."""
    params: dict[str, Any] = {"size": size}
    if status:
        params["status"] = status
    return dict(session.get("/predictions/jobs", params=params))


def get_job(session: RemoteSession, job_id: str) -> dict[str, Any]:
    """Return a job and its progress."""
    return dict(session.get(f"/predictions/jobs/{_job_id(job_id)}"))


def wait_for_job(
    session: RemoteSession,
    job_id: str,
    *,
    timeout: float,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll a job until it is over; raise after ``timeout`` seconds (the job keeps running)."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        job = get_job(session, job_id)
        if on_progress is not None:
            on_progress(job)
        if job["status"] in FINISHED:
            return job
        if time.monotonic() >= deadline:
            raise AccuNodeError(
                f"job {job_id} is still {job['status']} after {timeout:.0f} s; "
                f"follow it with accunode job wait {job_id}",
                details={"job": job},
            )
        time.sleep(_POLL_SECONDS[min(attempt, len(_POLL_SECONDS) - 1)])
        attempt += 1


def download(
    session: RemoteSession, job_id: str, destination: Path, *, what: str, format: str = "csv"
) -> Path:
    """Stream a job's results (csv or parquet) or errors (csv) into ``destination``."""
    job = _job_id(job_id)
    path = f"/predictions/jobs/{job}/{what}"
    params = {"format": format} if what == "results" else {}
    token_headers = session.auth_headers()
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    try:
        with (
            session.transport.stream("GET", path, params=params, headers=token_headers) as answer,
            partial.open("wb") as sink,
        ):
            for block in answer.iter_bytes():
                sink.write(block)
        os.replace(partial, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return destination


def cancel_job(session: RemoteSession, job_id: str) -> dict[str, Any]:
    """Ask the server to stop a job between chunks."""
    return dict(session.send("POST", f"/predictions/jobs/{_job_id(job_id)}/cancel"))
