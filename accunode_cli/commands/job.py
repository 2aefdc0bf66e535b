"""`accunode job list|show|wait|download|errors|cancel`: bulk-upload jobs on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, OrgOption, apply_json
from accunode_cli.commands.remote import open_session, show_records

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Bulk-upload jobs (bulk-score --remote makes them).")

JobId = Annotated[str, typer.Argument(help="Job id (see job list).")]
Timeout = Annotated[float, typer.Option(help="Give up waiting after this many seconds.", min=1)]


@app.command("list", epilog="Example:\n\n  accunode job list --status running")
@console.reports_errors
def list_jobs(
    status: Annotated[
        str | None, typer.Option(help="queued, running, succeeded, failed or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1-100).", min=1, max=100)] = 20,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the organization's jobs, newest first."""
    from accunode_cli.client import jobs

    apply_json(json_output)
    with open_session(api_url, org) as session:
        page = jobs.list_jobs(session, status=status, size=limit)
    records = [{**job, "progress": f"{job['progress']:.0%}"} for job in page["items"]]
    columns = ["status", "kind", "file_name", "rows_total", "rows_stored", "rows_rejected",
               "progress", "created_at", "id"]  # fmt: skip
    show_records(page, records, columns, f"{len(records)} of {page['total']} jobs")


@app.command("show", epilog="Example:\n\n  accunode job show 5b0c2f0e-8f5e-4a53-9d1c-1f3f3c1f2a10")
@console.reports_errors
def show(
    job_id: JobId,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a job and its progress."""
    from accunode_cli.client import jobs
    from accunode_cli.commands.bulk_remote import show_job

    apply_json(json_output)
    with open_session(api_url, org) as session:
        show_job(jobs.get_job(session, job_id))


@app.command(
    "wait",
    epilog="Example:\n\n  accunode job wait 5b0c2f0e-8f5e-4a53-9d1c-1f3f3c1f2a10 --timeout 600",
)
@console.reports_errors
def wait(
    job_id: JobId,
    timeout: Timeout = 3600,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Wait until a job is over (exit 1 unless it succeeded)."""
    from accunode_cli.client import jobs
    from accunode_cli.commands.bulk_remote import follow, show_job
    from accunode_cli.errors import AccuNodeError

    apply_json(json_output)
    with open_session(api_url, org) as session:
        job = follow(session, jobs.get_job(session, job_id), timeout)
    show_job(job)
    if job["status"] != "succeeded":
        raise AccuNodeError(f"job {job['id']} {job['status']}: {job.get('error') or ''}".strip())


@app.command(
    "download",
    epilog="Example:\n\n  accunode job download 5b0c2f0e-8f5e-4a53-9d1c-1f3f3c1f2a10 -o out.csv",
)
@console.reports_errors
def download(
    job_id: JobId,
    output: Annotated[str, typer.Option("-o", "--output", help="A .csv or .parquet file.")],
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Download a finished job's results (one row per input row, in input order)."""
    from accunode_cli.client import jobs
    from accunode_cli.commands.bulk_remote import result_format

    apply_json(json_output)
    fmt = result_format(output)
    with open_session(api_url, org) as session:
        path = jobs.download(session, job_id, Path(output), what="results", format=fmt)
    _saved(job_id, path)


@app.command(
    "errors",
    epilog="Example:\n\n  accunode job errors 5b0c2f0e-8f5e-4a53-9d1c-1f3f3c1f2a10 -o rejected.csv",
)
@console.reports_errors
def errors(
    job_id: JobId,
    output: Annotated[str, typer.Option("-o", "--output", help="CSV file to write.")],
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Download a job's rejected rows (CSV: row, column, value, reason)."""
    from accunode_cli.client import jobs

    apply_json(json_output)
    with open_session(api_url, org) as session:
        path = jobs.download(session, job_id, Path(output), what="errors")
    _saved(job_id, path)


@app.command(
    "cancel", epilog="Example:\n\n  accunode job cancel 5b0c2f0e-8f5e-4a53-9d1c-1f3f3c1f2a10"
)
@console.reports_errors
def cancel(
    job_id: JobId,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Cancel a queued or running job (what is stored stays stored)."""
    from accunode_cli.client import jobs
    from accunode_cli.commands.bulk_remote import show_job

    apply_json(json_output)
    with open_session(api_url, org) as session:
        show_job(jobs.cancel_job(session, job_id))


def _saved(job_id: str, path: Path) -> None:
    if console.state.json_mode:
        console.print_json({"job_id": job_id, "output": str(path)})
    else:
        console.print_lines([f"Saved {path}"])
