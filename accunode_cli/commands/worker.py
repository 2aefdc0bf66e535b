"""`accunode worker`: run bulk-upload chunks from the Redis queue (production)."""

from __future__ import annotations

from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.errors import ConfigError

__all__ = ["worker", "EPILOG"]

EPILOG = (
    "Examples:\n\n  ACCUNODE_REDIS_URL=redis://127.0.0.1:6379/0 accunode worker --concurrency 2\n\n"
    "  accunode worker --check\n\n"
    "Exit codes: 0 stopped cleanly (SIGTERM) or --check passed, 1 database or broker "
    "unreachable, 2 bad option or configuration (no ACCUNODE_REDIS_URL)."
)


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
