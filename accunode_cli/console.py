"""The only place that prints: Rich tables for humans, one JSON document in ``--json`` mode.

Every failure ends in :func:`fail`, which prints the error (one line on stderr for humans, the
error envelope on stdout in JSON mode) and exits with the error's exit code.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

from accunode_cli.errors import AccuNodeError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "OutputState",
    "state",
    "set_json_mode",
    "stdout_console",
    "stderr_console",
    "fail",
    "reports_errors",
    "print_json",
    "print_table",
    "print_lines",
    "warn",
    "progress",
    "RowProgress",
]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class OutputState:
    """How this process prints: JSON or human, set once by the root command or a command."""

    json_mode: bool = False


state = OutputState()


def set_json_mode(enabled: bool, *, reset: bool = False) -> None:
    """Switch JSON mode on; only the root command (``reset=True``) switches it off."""
    if enabled or reset:
        state.json_mode = enabled


@functools.lru_cache(maxsize=2)
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def stdout_console() -> Console:
    """Return the Rich console writing to stdout."""
    return _console(False)


def stderr_console() -> Console:
    """Return the Rich console writing to stderr (diagnostics, progress)."""
    return _console(True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def print_json(document: Any) -> None:
    """Print one JSON document on stdout (NaN and infinities become null)."""
    text = json.dumps(_finite(document), default=_json_default, indent=2, allow_nan=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_lines(lines: Sequence[str], *, stderr: bool = False) -> None:
    """Print Rich-markup lines for humans."""
    console = stderr_console() if stderr else stdout_console()
    for line in lines:
        console.print(line)


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    stderr: bool = False,
    right_align: Sequence[int] = (),
) -> None:
    """Print a Rich table for humans."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for index, name in enumerate(columns):
        table.add_column(name, justify="right" if index in right_align else "left")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    (stderr_console() if stderr else stdout_console()).print(table)


def warn(message: str) -> None:
    """Print a one-line diagnostic on stderr."""
    stderr_console().print(f"[yellow]warning:[/yellow] {message}", markup=True)


def fail(error: AccuNodeError) -> NoReturn:
    """Print the error the one way and exit with its exit code."""
    if state.json_mode:
        print_json(error.to_envelope())
    else:
        from rich.markup import escape

        message = escape(" ".join(error.message.split()))  # one line; [brackets] kept as typed
        stderr_console().print(
            f"[bold red]Error:[/bold red] {message}", markup=True, soft_wrap=True
        )
    raise typer.Exit(error.exit_code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so every AccuNodeError (and any bug) ends in :func:`fail`."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AccuNodeError as error:
            fail(error)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug: one line, unless ACCUNODE_DEBUG asks for more
            if os.environ.get("ACCUNODE_DEBUG"):
                raise
            fail(AccuNodeError(f"internal error: {type(error).__name__}: {error}"))

    return wrapper


class RowProgress:
    """What a long command reports: the total rows once known, then rows as they are done."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def set_total(self, total: int | None) -> None:
        """Give the bar a total (None keeps it pulsing)."""
        if self._bar is not None and total:
            self._bar.update(self._task, total=total)

    def advance(self, rows: int) -> None:
        """Count rows done."""
        if self._bar is not None:
            self._bar.update(self._task, advance=rows)


@contextmanager
def progress(*, label: str, unit: str = "rows") -> Iterator[RowProgress]:
    """Yield a RowProgress drawing a bar on stderr when it is a terminal (silent otherwise)."""
    if state.json_mode or not sys.stderr.isatty():
        yield RowProgress()
        return
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class RowsColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = f"{task.speed:,.0f}" if task.speed else "-"
            return Text(f"{int(task.completed):,} {unit}  {speed} {unit}/s")

    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        RowsColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=stderr_console(), transient=True) as bar:
        yield RowProgress(bar, bar.add_task(label, total=None))
