"""`accunode predict … --remote`: score and store one company on the server, shown as locally."""

from __future__ import annotations

from typing import Any

from accunode_cli.errors import ConflictError, InputError, UsageError

__all__ = ["score_remote", "ratio_numbers"]


def ratio_numbers(ratios: dict[str, str | None]) -> dict[str, float | None]:
    """Read the option values as the local predict does; NM and its kin travel as 1e7.

    The server reads any magnitude of at least 1e7 as "not meaningful", so a token like NM
    keeps its meaning remotely; a blank or N/A is missing (null).
    """
    from accunode_cli.scoring.cleaning import (
        MISSING,
        NOT_MEANINGFUL,
        OK,
        SENTINEL_MAGNITUDE,
        clean_column,
    )

    numbers: dict[str, float | None] = {}
    for name, raw in ratios.items():
        if raw is None:
            numbers[name] = None
            continue
        cleaned = clean_column([raw])
        status = int(cleaned.status[0])
        if status == OK:
            numbers[name] = float(cleaned.values[0])
        elif status == MISSING:
            numbers[name] = None
        elif status == NOT_MEANINGFUL:
            numbers[name] = SENTINEL_MAGNITUDE
        else:
            option = "--" + name.replace("_", "-")
            raise InputError(f"{option} {raw!r} is not a number", details={"field": name})
    return numbers


def _score_of(body: dict[str, Any]) -> Any:
    from accunode_cli.scoring.results import Score

    contributions = {key: float(value) for key, value in body["contributions"].items()}
    return Score(
        probability=body["probability"],
        log_odds=body["log_odds"],
        risk_level=body["risk_level"],
        implied_rating=body["implied_rating"],
        contributions=contributions,
        flags=dict(body["flags"]),
        model_version=body["model_version"],
        base_log_odds=body["log_odds"] - sum(contributions.values()),
    )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class _Model:
    """What render_predict needs of a model: the ratio specs, in model order."""

    def __init__(self, kind: str) -> None:
        from accunode_cli.scoring import ratio_specs

        self.ratios = ratio_specs(kind)


def score_remote(
    kind: str,
    ratios: dict[str, str | None],
    company: dict[str, Any],
    *,
    api_url: str | None,
    org: str | None,
) -> None:
    """Send the ratios to the server, store the prediction and print it like a local one."""
    from accunode_cli.client import api
    from accunode_cli.commands import render_predict
    from accunode_cli.commands.remote import open_session

    if not company.get("company_symbol") or company.get("reporting_year") is None:
        raise UsageError("--remote needs --company-symbol and --reporting-year")
    if kind == "quarterly" and not company.get("reporting_quarter"):
        raise UsageError("--remote needs --reporting-quarter for a quarterly prediction")
    body: dict[str, Any] = {
        key: value for key, value in company.items() if value is not None
    } | ratio_numbers(ratios)
    with open_session(api_url, org) as session:
        try:
            stored = api.create_prediction(session, kind=kind, body=body)
        except ConflictError as exc:
            existing = exc.details.get("existing_id")
            period = " ".join(
                str(company[key])
                for key in ("reporting_year", "reporting_quarter")
                if company.get(key)
            )
            raise ConflictError(
                f"{company['company_symbol']} already has {_article(kind)} {kind} prediction "
                f"for {period}: {existing} (see accunode prediction show {existing})",
                details=exc.details,
            ) from exc
    shown = {
        key: company.get(key) for key in ("company_symbol", "reporting_year", "reporting_quarter")
    }
    render_predict.show(kind, _Model(kind), ratios, _score_of(stored), shown, str(stored["id"]))
