"""Render drift and stress results: one JSON document, or Rich tables for people."""

from __future__ import annotations

from typing import Any

from accunode_cli import console

__all__ = ["show_drift", "show_stress"]

_STATUS = {"stable": "[green]stable[/green]", "watch": "[yellow]watch[/yellow]",
           "shifted": "[bold red]shifted[/bold red]"}  # fmt: skip


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def _move(pair: tuple[float, float] | list[float]) -> str:
    return f"{_pct(pair[0], 1)} -> {_pct(pair[1], 1)}"


def show_drift(report: Any, *, current: str, pictures: list[Any] | None = None) -> None:
    """Print a drift report."""
    data = report.to_dict()
    if console.state.json_mode:
        console.print_json({"current": current, **data,
                            "report_files": [str(p) for p in pictures or []]})  # fmt: skip
        return
    rows = data["rows"]
    console.print_lines([
        f"[bold]Drift of {current}[/bold] ({rows['current']:,} rows) against "
        f"{data['reference']} ({rows['reference']:,} rows); model {data['model_version']}",
    ])  # fmt: skip
    table = [
        [r["label"], f"{r['psi']:.3f}", _STATUS[r["status"]], _move(r["missing"]),
         _move(r["not_meaningful"])]
        for r in data["ratios"]
    ]  # fmt: skip
    score = data["score"]
    table.append(["score (PD deciles)", f"{score['psi']:.3f}", _STATUS[score["status"]], "", ""])
    console.print_table(
        None, ["Ratio", "PSI", "Status", "Missing", "Not meaningful"], table, right_align=(1,)
    )
    mean = data["mean_probability"]
    lines = [f"Mean PD {_pct(mean['reference'])} -> {_pct(mean['current'])}.  "
             "PSI: stable < 0.10 <= watch <= 0.25 < shifted."]  # fmt: skip
    if data["rejected_rows"]:
        lines.append(f"Rows left out (a ratio that is no number): {data['rejected_rows']:,}")
    if pictures:
        lines.append(f"Report: {len(pictures)} PNG files in {pictures[0].parent}")
    console.print_lines(lines)


def show_stress(summary: Any, *, output: str | None) -> None:
    """Print a stress run's portfolio summary and rating migration matrix."""
    data = summary.to_dict()
    if console.state.json_mode:
        console.print_json({**data, "output": output})
        return
    err = output == "-"
    scenario = data["scenario"]
    mean, expected = data["mean_probability"], data["expected_defaults"]
    console.print_lines([
        f"[bold]Scenario {scenario['name']}[/bold]: {scenario['description']}",
        f"{data['scored']:,} of {data['rows']:,} rows scored with {data['model_version']}",
    ], stderr=err)  # fmt: skip
    levels = data["risk_levels"]
    table = [
        ["Mean PD", _pct(mean["baseline"]), _pct(mean["stressed"])],
        ["Expected defaults", f"{expected['baseline']:,.1f}", f"{expected['stressed']:,.1f}"],
        *[[level, f"{levels['baseline'][level]:,}", f"{levels['stressed'][level]:,}"]
          for level in levels["baseline"]],
    ]  # fmt: skip
    console.print_table(None, ["", "Baseline", "Stressed"], table, stderr=err, right_align=(1, 2))
    ratings = data["migration"]["ratings"]
    matrix = [
        [rating, *(f"{count:,}" if count else "." for count in counts)]
        for rating, counts in zip(ratings, data["migration"]["counts"], strict=True)
    ]
    console.print_lines(["Rating migration (rows: baseline grade, columns: stressed grade)"],
                        stderr=err)  # fmt: skip
    console.print_table(
        None, ["", *ratings], matrix, stderr=err, right_align=tuple(range(1, len(ratings) + 1))
    )
    tail = [f"PD rose for {data['rows_pd_rose']:,} rows and fell for {data['rows_pd_fell']:,}."]
    if data["rejected"]:
        tail.append(f"Rows not scored (a ratio that is no number): {data['rejected']:,}")
    if output and output != "-":
        tail.append(f"Output: {output}")
    console.print_lines(tail, stderr=err)
