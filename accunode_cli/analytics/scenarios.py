"""Stress scenarios: named sets of ratio shocks, shipped as TOML or written by the user.

A shock moves a ratio in its own unit: percentage ratios take points added (``points = -3``:
a 9 % net margin becomes 6 %), multiples take a factor (``factor = 1.25``: debt / EBITDA of
2.0x becomes 2.5x). A bare number means the ratio's natural kind. Shocks can be overridden by
sector (``[sectors.energy]``), matched case-insensitively against the input's sector column.

    description = "A downturn like 2001"
    [shocks]
    net_income_margin = { points = -3.0 }
    total_debt_to_ebitda = { factor = 1.25 }
    [sectors.energy]
    net_income_margin = -8.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from accunode_cli.errors import InputError, UnreadableFileError
from accunode_cli.scoring import ANNUAL_RATIOS, QUARTERLY_RATIOS, RatioSpec

__all__ = [
    "SHIPPED_SCENARIOS",
    "Shock",
    "Scenario",
    "fold_sector",
    "load_scenario",
    "parse_scenario",
    "scenario_from_shocks",
    "zero_scenario",
]

SHIPPED_SCENARIOS: tuple[str, ...] = ("mild", "recession", "severe")
_SPECS: dict[str, RatioSpec] = {spec.name: spec for spec in (*ANNUAL_RATIOS, *QUARTERLY_RATIOS)}
_TOP_KEYS = {"name", "description", "shocks", "sectors"}
_MAX_POINTS = 1000.0
_MAX_FACTOR = 100.0


@dataclass(frozen=True)
class Shock:
    """One ratio's move: points added (percentage ratios) or a factor (multiples)."""

    points: float = 0.0
    factor: float = 1.0

    @property
    def is_zero(self) -> bool:
        """Say whether the shock leaves the ratio unchanged."""
        return self.points == 0.0 and self.factor == 1.0

    def to_dict(self) -> dict[str, float]:
        """Return the shock as JSON-ready data (only the part that applies)."""
        return {"points": self.points} if self.factor == 1.0 else {"factor": self.factor}


@dataclass(frozen=True)
class Scenario:
    """A named set of shocks, with optional per-sector overrides."""

    name: str
    description: str
    shocks: dict[str, Shock]
    sectors: dict[str, dict[str, Shock]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as JSON-ready data."""
        return {
            "name": self.name,
            "description": self.description,
            "shocks": {name: shock.to_dict() for name, shock in self.shocks.items()},
            "sectors": {
                sector: {name: shock.to_dict() for name, shock in shocks.items()}
                for sector, shocks in self.sectors.items()
            },
        }


def fold_sector(name: str) -> str:
    """Fold a sector name for matching: lower case, punctuation and spaces as one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _fail(source: str, message: str, **details: Any) -> InputError:
    return InputError(f"scenario {source}: {message}", details={"scenario": source, **details})


def _shock(source: str, where: str, name: str, value: Any) -> Shock:
    spec = _SPECS.get(name)
    if spec is None:
        known = ", ".join(sorted(_SPECS))
        raise _fail(source, f"{where} names an unknown ratio {name!r}; use one of {known}")
    natural = "points" if spec.unit == "percent" else "factor"
    if isinstance(value, dict):
        if set(value) != {natural}:
            given = ", ".join(sorted(value)) or "nothing"
            raise _fail(
                source,
                f"{where}.{name} is a {spec.unit} ratio: give {{ {natural} = ... }} "
                f"(points for percentages, factor for multiples), not {given}",
                ratio=name,
            )
        value = value[natural]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, f"{where}.{name} must be a number, not {value!r}", ratio=name)
    number = float(value)
    if natural == "points":
        if abs(number) > _MAX_POINTS:
            raise _fail(source, f"{where}.{name} moves by {number} points; at most ±1000")
        return Shock(points=number)
    if not 0 < number <= _MAX_FACTOR:
        raise _fail(
            source,
            f"{where}.{name} is a factor for a multiple and must be above 0 and at most 100 "
            f"(1.25 means 25 % higher), not {number}",
            ratio=name,
        )
    return Shock(factor=number)


def _shocks(source: str, where: str, table: Any) -> dict[str, Shock]:
    if not isinstance(table, dict):
        raise _fail(source, f"[{where}] must be a table of ratio = shock")
    return {name: _shock(source, where, name, value) for name, value in table.items()}


def _from_document(document: dict[str, Any], *, name: str, source: str) -> Scenario:
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise _fail(
            source, f"unknown key(s) {', '.join(unknown)}; use description, shocks, sectors"
        )
    if "shocks" not in document and "sectors" not in document:
        raise _fail(source, "it has no [shocks] table")
    shocks = _shocks(source, "shocks", document.get("shocks", {}))
    sectors_table = document.get("sectors", {})
    if not isinstance(sectors_table, dict):
        raise _fail(source, "[sectors] must hold one table per sector, e.g. [sectors.energy]")
    sectors = {
        fold_sector(sector): _shocks(source, f"sectors.{sector}", table)
        for sector, table in sectors_table.items()
    }
    description = document.get("description", "")
    if not isinstance(description, str):
        raise _fail(source, "description must be text")
    return Scenario(str(document.get("name", name)), description, shocks, sectors)


def parse_scenario(text: str, *, name: str, source: str) -> Scenario:
    """Parse and validate a scenario's TOML text; errors name the file and the problem."""
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(source, f"is not valid TOML: {error}") from error
    return _from_document(document, name=name, source=source)


def load_scenario(spec: str) -> Scenario:
    """Return a shipped scenario by name (mild, recession, severe) or read a TOML file."""
    if spec in SHIPPED_SCENARIOS:
        shipped = resources.files("accunode_cli.analytics").joinpath(f"scenarios/{spec}.toml")
        return parse_scenario(shipped.read_text(encoding="utf-8"), name=spec, source=spec)
    path = Path(spec)
    if not path.suffix.lower() == ".toml" and not path.exists():
        raise InputError(
            f"unknown scenario {spec!r}; use {', '.join(SHIPPED_SCENARIOS)} or a .toml file",
            details={"scenario": spec, "shipped": list(SHIPPED_SCENARIOS)},
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise UnreadableFileError(f"no such scenario file: {spec}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableFileError(f"cannot read the scenario file {spec}: {error}") from error
    return parse_scenario(text, name=path.stem, source=str(path))


def scenario_from_shocks(
    shocks: Mapping[str, Any], *, name: str = "custom", sectors: Mapping[str, Any] | None = None
) -> Scenario:
    """Build a scenario from inline shocks (the API's what-if), validated like a file."""
    document: dict[str, Any] = {"shocks": dict(shocks)}
    if sectors:
        document["sectors"] = dict(sectors)
    return _from_document(document, name=name, source=name)


def zero_scenario() -> Scenario:
    """Return the scenario that moves nothing."""
    return Scenario("none", "no shock", {})
