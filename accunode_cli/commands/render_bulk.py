"""Render the summary of `accunode bulk-score`: a JSON document or Rich tables."""

from __future__ import annotations

from typing import Any

from accunode_cli import console

__all__ = ["show"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def show(result: Any) -> None:
    """Print the run's summary (on stderr when the scores themselves went to stdout)."""
    data = result.to_dict()
    if console.state.json_mode:
        console.print_json(data)
        return
    to_stderr = result.output == "-"
    rate = data["rows_per_second"]
    head = [
        f"[bold]Scored {data['scored']:,} of {data['rows']:,} rows[/bold] with "
        f"{data['model_version']} in {data['seconds']:.2f} s"
        + (f" ({rate:,} rows/s)" if rate else ""),
        f"Mean PD {_pct(data['mean_probability'])}, median PD {_pct(data['median_probability'])}",
    ]
    console.print_lines(head, stderr=to_stderr)
    levels = [
        [level, f"{item['count']:,}", _pct(item["share"])]
        for level, item in data["risk_levels"].items()
    ]
    console.print_table(
        None, ["Risk level", "Rows", "Share"], levels, stderr=to_stderr, right_align=(1, 2)
    )
    inputs = [
        [
            name,
            f"{data['missing_by_ratio'][name]:,}",
            f"{data['not_meaningful_by_ratio'][name]:,}",
            f"{data.get('out_of_range_by_ratio', {}).get(name, 0):,}",
        ]
        for name in data["missing_by_ratio"]
    ]
    console.print_table(
        None,
        ["Ratio", "Missing", "Not meaningful", "Out of range"],
        inputs,
        stderr=to_stderr,
        right_align=(1, 2, 3),
    )
    tail = [f"Rows rejected: {data['rejected']:,}"]
    if data["rejected"] and result.errors_file:
        tail[0] += f" (listed in {result.errors_file})"
    if data.get("rejected_no_ratio_values"):  # a server job's summary may not count them
        tail.append(f"  of them with no ratio values: {data['rejected_no_ratio_values']:,}")
    if data.get("warnings"):
        tail.append(f"Warnings: {len(data['warnings'])} (printed above; --json lists them)")
    if result.output != "-":
        tail.append(f"Output: {result.output}")
    console.print_lines(tail, stderr=to_stderr)
