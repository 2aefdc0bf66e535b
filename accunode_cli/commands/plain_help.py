"""Help that reads like a normal CLI's: `--output TEXT`, `--json`, `bulk-score [OPTIONS] INPUT`.

Typer (0.2x) prints every parameter's Python type (`--json <bool>`, `<str>`) and wraps required
arguments in braces (`{INPUT}`). The root group fixes that once for the whole command tree, so
command modules need not repeat a `metavar=` on each option: flags get no metavar, choices
`[a|b]`, other values the classic names (TEXT, INTEGER, NUMBER, PATH). An explicit `metavar=`
on an option wins.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

__all__ = ["PlainHelpGroup", "tidy_command"]

_NAMES = {int: "INTEGER", float: "NUMBER", str: "TEXT", Path: "PATH", bool: "BOOLEAN"}


class _PlainArgument(TyperArgument):
    """An argument shown as INPUT (required) or [REVISION] (optional), with no type column."""

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _option_metavar(param: TyperOption) -> str:
    """Return the metavar of an option: '' for a flag, [a|b] for a choice, else a type name."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "[" + "|".join(str(member.value) for member in annotation) + "]"
    if isinstance(annotation, type):
        for kind, name in _NAMES.items():
            if issubclass(annotation, kind):
                return name
    return str(getattr(getattr(param, "type", None), "name", "value")).upper()


def _tidy_param(param: Any) -> None:
    if isinstance(param, TyperArgument):
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
        param.metavar = param.metavar or (param.name or "").upper()
    elif isinstance(param, TyperOption) and param.metavar is None:
        param.metavar = _option_metavar(param)


def tidy_command(command: Any) -> None:
    """Give every parameter of a command (and its subcommands) a plain metavar, recursively.

    `get_params` is wrapped too, because --help and the completion options are made per call.
    """
    original = command.get_params

    def get_params(ctx: Any) -> list[Any]:
        params = original(ctx)
        for param in params:
            _tidy_param(param)
        return list(params)

    command.get_params = get_params
    for sub in getattr(command, "commands", {}).values():
        tidy_command(sub)


class PlainHelpGroup(TyperGroup):
    """The root group: once Typer has built the command tree, tidy its help (see module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tidy_command(self)
