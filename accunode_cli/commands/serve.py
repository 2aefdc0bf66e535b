"""`accunode serve`: run the REST API with uvicorn on the configured database and Redis."""

from __future__ import annotations

import atexit
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from accunode_cli import console
from accunode_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:  # pydantic-settings loads only when a command runs, not for --help
    from accunode_cli.config import Settings

__all__ = ["serve", "EPILOG", "SHUTDOWN_SECONDS", "check_port_free"]

EPILOG = (
    "Examples:\n\n  accunode serve\n\n  accunode serve --host 0.0.0.0 --port 8080 --workers 4\n\n"
    "Exit codes: 0 stopped cleanly, 1 failure at run time, 2 bad option or configuration, or "
    "the port is in use."
)

# On SIGTERM: stop accepting, let in-flight requests finish for up to this long, exit 0.
# The ECS stopTimeout and compose stop_grace_period leave a margin above it.
SHUTDOWN_SECONDS = 10


def _load_settings() -> Settings:
    """Read the settings from the environment; an unsafe or invalid one is a ConfigError."""
    from pydantic import ValidationError

    from accunode_cli.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc


def _exit_cleanly(signum: int, frame: object) -> None:
    """Make SIGTERM a clean exit (0): uvicorn finishes in-flight requests, then re-raises it."""
    raise SystemExit(0)


def _share_metrics(settings: Settings, workers: int) -> None:
    """Give several workers one metrics folder (prometheus-client's multiprocess mode)."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    if not settings.metrics or workers < 2:
        return
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:  # values of an earlier run would be added to this one's
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return
    directory = tempfile.mkdtemp(prefix="accunode-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # inherited by the worker processes
    atexit.register(shutil.rmtree, directory, True)


def check_port_free(host: str, port: int) -> None:
    """Raise a UsageError (exit 2) when ``host:port`` cannot be bound, before any work starts."""
    import errno
    import socket

    if port == 0:
        return  # the system picks a free port
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot bind to host {host!r}: {exc.strerror}; pass --host") from exc
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {port} is in use; pass --port") from exc
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _describe(settings: Settings) -> list[str]:
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    store = "Redis" if settings.redis_url else "in-process (one process only)"
    return [
        f"database: {url.render_as_string(hide_password=True)}",
        f"rate limits, revocations and cache: {store}",
    ]


@console.reports_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind.", envvar="ACCUNODE_HOST")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to bind.", envvar="ACCUNODE_PORT", min=0, max=65535)
    ] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes.", envvar="ACCUNODE_WORKERS", min=1)
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Start the multi-tenant REST API (docs at /docs)."""
    check_port_free(host, port)
    import uvicorn

    from accunode_cli.logs import configure_logging
    from accunode_cli.server.app import create_app
    from accunode_cli.storage.db import make_engine, make_private_folder
    from accunode_cli.storage.migrate import upgrade_database

    settings = _load_settings()
    if reload and workers > 1:
        raise UsageError("--reload and --workers cannot be combined")
    if settings.database_url is None:
        make_private_folder(settings.data_dir)
    engine = make_engine(settings.effective_database_url)
    upgrade_database(engine)  # once, before any worker starts
    engine.dispose()
    if workers > 1 and not settings.redis_url:
        console.warn(
            "without ACCUNODE_REDIS_URL each worker keeps its own rate limits and revocations"
        )
    configure_logging(settings.log_level)
    console.print_lines(
        [
            f"AccuNode API on http://{host}:{port}  (docs: http://{host}:{port}/docs)",
            *_describe(settings),
        ],
        stderr=True,
    )
    common = {
        "host": host,
        "port": port,
        "proxy_headers": False,  # X-Forwarded-For is honoured only via ACCUNODE_TRUSTED_PROXIES
        "server_header": False,
        "access_log": False,  # our middleware logs each request with its id
        "log_config": None,
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
    }
    _share_metrics(settings, workers)
    signal.signal(signal.SIGTERM, _exit_cleanly)  # ECS and compose stop tasks with SIGTERM
    if workers > 1 or reload:
        target = "accunode_cli.server.app:app_from_environment"
        uvicorn.run(target, factory=True, workers=workers, reload=reload, **common)  # type: ignore[arg-type]
    else:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
