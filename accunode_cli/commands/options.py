"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from accunode_cli import console

__all__ = [
    "JsonOption",
    "ModelDirOption",
    "KindChoice",
    "InferredKindOption",
    "apply_json",
    "HorizonOption",
    "ApiUrlOption",
    "OrgOption",
]


class KindChoice(StrEnum):
    """The model kinds, for option parsing."""

    annual = "annual"
    quarterly = "quarterly"


JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on stdout (errors too); diagnostics go to stderr.",
        envvar="ACCUNODE_JSON",
    ),
]

InferredKindOption = Annotated[
    KindChoice | None,
    typer.Option(
        "--kind", help="Model kind; inferred from the columns when omitted.", show_default=False
    ),
]

ModelDirOption = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        help="Score with the model in this folder instead of the shipped one.",
        envvar="ACCUNODE_MODEL_DIR",
        show_default=False,
    ),
]

HorizonOption = Annotated[
    int | None,
    typer.Option(
        "--horizon",
        help="Add cumulative PDs for 1..N years (N from 1 to 5).",
        min=1,
        max=5,
        show_default=False,
    ),
]


ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help="AccuNode server (default: the saved login's, else http://127.0.0.1:8000).",
        envvar="ACCUNODE_API_URL",
        show_default=False,
    ),
]

OrgOption = Annotated[
    str | None,
    typer.Option(
        "--org",
        help="Organization (id or name) for this command; default: the saved one.",
        envvar="ACCUNODE_ORG",
        show_default=False,
    ),
]


def apply_json(enabled: bool) -> None:
    """Switch the console to JSON mode when the command's --json is given."""
    console.set_json_mode(enabled)
