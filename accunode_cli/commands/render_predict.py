"""Render one score for `accunode predict`: a JSON document or a short report with a table."""

from __future__ import annotations

from typing import Any

from accunode_cli import console
from accunode_cli.errors import InputError

__all__ = ["show"]


def _effect(contribution: float) -> str:
    if contribution > 0.005:
        return "[red]raises risk[/red]"
    if contribution < -0.005:
        return "[green]lowers risk[/green]"
    return "neutral"


def _by_year(term: list[float]) -> dict[str, float]:
    return {f"{year}y": pd for year, pd in enumerate(term, start=1)}


def show(
    kind: str,
    model: Any,
    ratios: dict[str, str | None],
    score: Any,
    company: dict[str, Any],
    prediction_id: str | None = None,
    *,
    term: list[float] | None = None,
) -> None:
    """Print the score, cumulative PDs by year and a stored prediction's id; bad values exit 2."""
    if score.error is not None:
        raise InputError(score.error, details={"inputs": ratios})
    if console.state.json_mode:
        document = {
            **({"id": prediction_id} if prediction_id else {}),
            "kind": kind,
            **{key: value for key, value in company.items() if value is not None},
            **score.to_dict(),
            **({"cumulative_pd": _by_year(term)} if term is not None else {}),
            "inputs": ratios,
        }
        console.print_json(document)
        return
    who = " ".join(str(v) for v in company.values() if v is not None)
    console.print_lines(
        [
            f"[bold]{who + '  ' if who else ''}{kind} model[/bold] {score.model_version}",
            f"Probability of default: [bold]{score.probability:.2%}[/bold]   "
            f"Risk level: [bold]{score.risk_level}[/bold]   "
            f"Implied rating: [bold]{score.implied_rating}[/bold]",
        ]
    )
    if term is not None:
        years = "  ".join(f"{year} {pd:.2%}" for year, pd in _by_year(term).items())
        console.print_lines([f"Cumulative PD: {years}"])
    rows = []
    for spec in model.ratios:
        raw = ratios.get(spec.name)
        status = score.flags.get(spec.name, "ok")
        contribution = score.contributions[spec.name]
        rows.append(
            [
                spec.label,
                "-" if raw is None else raw,
                status,
                f"{contribution:+.3f}",
                _effect(contribution),
            ]
        )
    console.print_table(
        None,
        ["Ratio", "Value", "Status", "Log-odds", "Effect"],
        rows,
        right_align=(1, 3),
    )
    if prediction_id:
        console.print_lines([f"Stored as prediction {prediction_id}"])
    missing = [name for name, flag in score.flags.items() if flag == "missing"]
    if missing:
        console.warn("missing (scored as missing, not as zero): " + ", ".join(missing))
