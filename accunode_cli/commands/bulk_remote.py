"""`accunode bulk-score FILE --remote`: upload, follow the job, download, summarise like locally."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from accunode_cli import console
from accunode_cli.errors import AccuNodeError, UsageError

__all__ = ["score_remote", "result_format", "summarise_results", "show_job"]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def result_format(output: str) -> str:
    """Return the download format an output file's extension names (csv or parquet)."""
    suffix = Path(output).suffix.lower()
    if suffix not in _FORMATS:
        raise UsageError(
            f"with --remote, -o must end in .csv or .parquet (the server's result formats), "
            f"not {output!r}"
        )
    return _FORMATS[suffix]


def summarise_results(path: Path, fmt: str, kind: str) -> dict[str, Any]:
    """Return the local run's summary, computed from a downloaded results file."""
    import numpy as np
    import pyarrow.compute as pc

    from accunode_cli.scoring import RATINGS, RISK_LEVELS, ratio_names

    columns = ["probability", "risk_level", "implied_rating", "model_version", "flags"]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=columns)
    else:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        types = {name: pa.string() for name in columns[1:]} | {"probability": pa.float64()}
        convert = pcsv.ConvertOptions(include_columns=columns, column_types=types)
        table = pcsv.read_csv(path, convert_options=convert)
    probability = table["probability"].to_numpy(zero_copy_only=False).astype(float)
    scored_mask = ~np.isnan(probability)
    scored = int(scored_mask.sum())
    levels = table["risk_level"].to_pylist()
    ratings = table["implied_rating"].to_pylist()
    names = ratio_names(kind)
    flags = pc.fill_null(table["flags"].cast("string"), "").to_pylist()
    missing = {name: sum(f"{name}=missing" in text for text in flags) for name in names}
    not_meaningful = {
        name: sum(f"{name}=not_meaningful" in text for text in flags) for name in names
    }
    versions = [v for v in table["model_version"].unique().to_pylist() if v]
    share = (lambda count: count / scored) if scored else (lambda count: 0.0)
    return {
        "kind": kind,
        "model_version": versions[0] if versions else None,
        "rows": table.num_rows,
        "scored": scored,
        "rejected": table.num_rows - scored,
        "risk_levels": {
            level: {"count": levels.count(level), "share": share(levels.count(level))}
            for level in RISK_LEVELS
        },
        "implied_ratings": {rating: ratings.count(rating) for rating in RATINGS},
        "mean_probability": float(probability[scored_mask].mean()) if scored else None,
        "median_probability": float(np.median(probability[scored_mask])) if scored else None,
        "missing_by_ratio": missing,
        "not_meaningful_by_ratio": not_meaningful,
    }


class _Shown:
    """What render_bulk.show reads of a local run's result."""

    def __init__(self, data: dict[str, Any], output: str, errors_file: str | None) -> None:
        self._data = data
        self.output = output
        self.errors_file = errors_file

    def to_dict(self) -> dict[str, Any]:
        return self._data


def show_job(job: dict[str, Any]) -> None:
    """Print a job as JSON or as a short report."""
    if console.state.json_mode:
        console.print_json(job)
        return
    total = job.get("rows_total")
    rows = [
        ["id", job["id"]],
        ["status", job["status"]],
        ["kind", job["kind"]],
        ["file", f"{job['file_name']} ({job['file_bytes']:,} bytes)"],
        ["rows", f"{job['rows_processed']:,} of {total:,}" if total else "-"],
        ["stored / replaced", f"{job['rows_stored']:,} / {job['rows_replaced']:,}"],
        ["rejected / conflicting", f"{job['rows_rejected']:,} / {job['rows_conflicting']:,}"],
        ["progress", f"{job['progress']:.0%}"],
        ["created", job["created_at"]],
        ["finished", job.get("finished_at") or "-"],
    ]
    if job.get("rows_per_second"):
        rows.append(["rows/s", f"{job['rows_per_second']:,.0f}"])
    if job.get("error"):
        rows.append(["error", job["error"]])
    rows.extend(["warning", warning] for warning in job.get("warnings") or [])
    console.print_table(None, ["Field", "Value"], rows)


def follow(session: Any, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Wait for a job with a progress bar on its rows."""
    from accunode_cli.client import jobs

    with console.progress(label="scoring on the server") as bar:
        done = {"rows": 0}

        def report(state: dict[str, Any]) -> None:
            bar.set_total(state.get("rows_total"))
            bar.advance(state["rows_processed"] - done["rows"])
            done["rows"] = state["rows_processed"]

        return jobs.wait_for_job(session, job["id"], timeout=timeout, on_progress=report)


def score_remote(
    input_path: str,
    output: str,
    *,
    kind: str | None,
    on_conflict: str,
    sheet: str | None,
    period: tuple[int | None, str | None],
    wait: bool,
    timeout: float,
    api_url: str | None,
    org: str | None,
    percent: str | None = None,
    header_row: int | None = None,
    column_map: dict[str, str] | None = None,
) -> None:
    """Upload a file as a job; unless --no-wait, follow it and download the results."""
    from accunode_cli.client import jobs
    from accunode_cli.commands.remote import open_session

    if input_path == "-":
        raise UsageError("--remote uploads a file; stdin ('-') is only for local runs")
    fmt = result_format(output) if wait else None
    started = time.monotonic()
    with open_session(api_url, org) as session:
        with console.progress(label="uploading", unit="bytes") as bar:
            bar.set_total(Path(input_path).stat().st_size if Path(input_path).exists() else None)
            job = jobs.upload_file(
                session,
                Path(input_path),
                kind=kind,
                on_conflict=on_conflict,
                sheet=sheet,
                reporting_year=period[0],
                reporting_quarter=period[1],
                percent=percent,
                header_row=header_row,
                column_map=column_map,
                on_bytes=bar.advance,
            )
        if not wait:
            if console.state.json_mode:
                console.print_json(job)
            else:
                console.print_lines([job["id"]])
                console.print_lines([f"Follow it with: accunode job wait {job['id']}"], stderr=True)
            return
        job = follow(session, job, timeout)
        for warning in job.get("warnings") or []:  # as the local run warns, one line each
            console.warn(warning)
        if job["status"] != "succeeded":
            raise AccuNodeError(
                f"job {job['id']} {job['status']}: {job.get('error') or 'see accunode job show'}",
                details={"job": job},
            )
        assert fmt is not None
        target = Path(output)
        jobs.download(session, job["id"], target, what="results", format=fmt)
        errors_file = None
        if job["rows_rejected"]:
            errors_path = target.with_name(target.name.split(".")[0] + ".errors.csv")
            jobs.download(session, job["id"], errors_path, what="errors")
            errors_file = str(errors_path)
    data = summarise_results(target, fmt, job["kind"])
    seconds = time.monotonic() - started
    data |= {
        "output": output,
        "output_format": fmt,
        "errors_file": errors_file,
        "seconds": round(seconds, 3),
        "rows_per_second": round(data["rows"] / seconds) if seconds > 0 else None,
        "job_id": job["id"],
        "stored": job["rows_stored"],
        "replaced": job["rows_replaced"],
        "conflicting": job["rows_conflicting"],
        "warnings": list(job.get("warnings") or []),
    }
    from accunode_cli.commands import render_bulk

    render_bulk.show(_Shown(data, output, errors_file))
    if not console.state.json_mode:
        console.print_lines(
            [
                f"Job {job['id']}: stored {job['rows_stored']:,}, replaced "
                f"{job['rows_replaced']:,}, conflicting {job['rows_conflicting']:,}"
            ]
        )
    if data["scored"] == 0:
        raise AccuNodeError(f"no row could be scored ({data['rejected']} rejected)")
