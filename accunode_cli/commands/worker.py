"""`accunode worker`: run bulk-upload chunks from the Redis queue (production)."""

from __future__ import annotations

from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.errors import ConfigError

__all__ = ["worker"]


@console.reports_errors
def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-c",
            help="Chunks run at once.",
            envvar="ACCUNODE_WORKER_CONCURRENCY",
            min=1,
        ),
    ] = 1,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 0 if the database and the broker answer, else 1."),
    ] = False,
) -> None:
    """Score bulk-upload chunks from the queue (needs ACCUNODE_REDIS_URL)."""
    from accunode_cli.commands.serve import _load_settings
    from accunode_cli.jobs.worker import check_worker, run_worker

    settings = _load_settings()
    if check:
        check_worker(settings)
        console.print_lines(["database and broker reachable"], stderr=True)
        return
    if not settings.redis_url:
        raise ConfigError(
            "accunode worker needs ACCUNODE_REDIS_URL (without Redis, `accunode serve` runs "
            "bulk-upload jobs itself)"
        )
    run_worker(settings, concurrency=concurrency)
