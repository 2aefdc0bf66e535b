"""Column maps the user gives: ``--map "Header=ratio_name"`` items and a TOML map file."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from accunode_cli.errors import ColumnError, UsageError
from accunode_cli.tabular.columns import MAP_SYNTAX, all_ratio_names, column_key, shown

__all__ = ["check_map", "read_column_map"]


def read_column_map(items: Sequence[str], map_file: str | None = None) -> dict[str, str]:
    """Return {header: ratio name} from ``--map "Header=ratio"`` items and a TOML map file.

    The file holds ``"Header" = "ratio_name"`` lines, at the top or under ``[columns]``;
    a ``--map`` item overrides the file's entry for the same header.
    """
    pairs: list[tuple[str, str, str]] = []
    if map_file is not None:
        for header, ratio in _read_map_file(map_file).items():
            pairs.append((header, ratio, f"{map_file}: {header!r}"))
    for item in items:
        header, sep, ratio = item.rpartition("=")
        if not sep or not header.strip() or not ratio.strip():
            raise UsageError(f"--map {item!r} is not HEADER=ratio_name, e.g. {MAP_SYNTAX}")
        pairs.append((header, ratio, f"--map {item!r}"))
    known = all_ratio_names()
    mapping: dict[str, str] = {}
    for header, ratio, where in pairs:
        name = ratio.strip()
        if name not in known:
            close = difflib.get_close_matches(column_key(name), known, n=1, cutoff=0.4)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(
                f"{where}: {name!r} is not a ratio name{hint} The ratios are {', '.join(known)}",
                details={"ratio": name, "ratios": known},
            )
        mapping[header.strip()] = name
    return mapping


def _read_map_file(path: str) -> dict[str, str]:
    import tomllib

    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"cannot read the map file {path}: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"the map file {path} is not valid TOML: {error}") from error
    table = document.get("columns", document)
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise UsageError(
            f'the map file {path} must hold "Header" = "ratio_name" lines '
            "(at the top or under [columns])"
        )
    return dict(table)


def check_map(names: Sequence[str], column_map: Mapping[str, str], *, source: str) -> None:
    """Refuse a mapped header that the input does not have."""
    present = {name.strip() for name in names}
    for header in column_map:
        if header not in present:
            close = difflib.get_close_matches(header, list(present), n=1, cutoff=0.5)
            hint = f" (closest: {shown(close[0])})" if close else ""
            raise ColumnError(
                f"{source} has no column {header!r} to map{hint}",
                details={"column": header, "columns": list(names)},
            )
