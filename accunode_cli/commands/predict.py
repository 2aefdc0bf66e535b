"""`accunode predict annual|quarterly`: score one company from its ratios."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from accunode_cli import console
from accunode_cli.commands.options import (
    ApiUrlOption,
    HorizonOption,
    JsonOption,
    ModelDirOption,
    OrgOption,
    apply_json,
)

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="Score one company from its ratios (an omitted ratio counts as missing).",
    rich_markup_mode="rich",
)


def _ratio(help_text: str) -> Any:
    return typer.Option(
        help=f"{help_text} Numbers or tokens: 12.5, '12.5%', '(3.2)', NM.",
        metavar="VALUE",
        show_default=False,
    )


RatioValue = str | None
LtdCapital = Annotated[RatioValue, _ratio("Long-term debt / total capital, percent.")]
DebtEbitda = Annotated[RatioValue, _ratio("Total debt / EBITDA, multiple.")]
NetIncomeMargin = Annotated[RatioValue, _ratio("Net income margin, percent.")]
EbitInterest = Annotated[RatioValue, _ratio("EBIT / interest expense, multiple.")]
ReturnOnAssets = Annotated[RatioValue, _ratio("Return on assets, percent.")]
SgaMargin = Annotated[RatioValue, _ratio("SG&A margin, percent.")]
ReturnOnCapital = Annotated[RatioValue, _ratio("Return on capital, percent.")]
Symbol = Annotated[str | None, typer.Option(help="Ticker or id, echoed in the output.")]
Year = Annotated[int | None, typer.Option(help="Reporting year, echoed in the output.")]
Quarter = Annotated[
    str | None, typer.Option(help="Reporting quarter (1-4 or Q1-Q4), echoed in the output.")
]
Remote = Annotated[
    bool,
    typer.Option(
        "--remote",
        help="Score and store on the server (needs --company-symbol and --reporting-year).",
    ),
]
CompanyName = Annotated[
    str | None, typer.Option(help="Company name, with --remote when the company is new.")
]


def _quarter(value: str | None) -> str | None:
    from accunode_cli.scoring import normalise_quarter

    return None if value is None else normalise_quarter(value)


def _score(kind: str, ratios: dict[str, str | None], company: dict[str, Any], **kw: Any) -> None:
    from accunode_cli.commands import render_predict
    from accunode_cli.scoring import load_model

    if kw["remote"]:
        from accunode_cli.commands.predict_remote import score_remote

        company = {**company, "company_name": kw["company_name"]}
        score_remote(kind, ratios, company, api_url=kw["api_url"], org=kw["org"])
        return

    model = load_model(kind, kw["model_dir"])
    score = model.score_one(ratios)
    render_predict.show(kind, model, ratios, score, company, term=_term(score, kw["horizon"]))


def _term(score: Any, horizon: int | None) -> list[float] | None:
    """Return the cumulative PDs for 1..horizon years (None without --horizon)."""
    if horizon is None or score.log_odds is None:
        return None
    import numpy as np

    from accunode_cli.analytics import cumulative_pds

    return [float(p) for p in cumulative_pds(np.asarray([score.log_odds]), horizon)[0]]


_ANNUAL_EPILOG = (
    "Example:\n\n  accunode predict annual --long-term-debt-to-total-capital 35 "
    "--total-debt-to-ebitda 2.1 --net-income-margin 8.5 --ebit-to-interest-expense 9.2 "
    "--return-on-assets 6.1"
)
_QUARTERLY_EPILOG = (
    "Example:\n\n  accunode predict quarterly --total-debt-to-ebitda 2.4 --sga-margin 18 "
    "--long-term-debt-to-total-capital 40 --return-on-capital 7.5 --json"
)


@app.command(epilog=_ANNUAL_EPILOG)
@console.reports_errors
def annual(
    long_term_debt_to_total_capital: LtdCapital = None,
    total_debt_to_ebitda: DebtEbitda = None,
    net_income_margin: NetIncomeMargin = None,
    ebit_to_interest_expense: EbitInterest = None,
    return_on_assets: ReturnOnAssets = None,
    company_symbol: Symbol = None,
    reporting_year: Year = None,
    reporting_quarter: Quarter = None,
    model_dir: ModelDirOption = None,
    horizon: HorizonOption = None,
    remote: Remote = False,
    company_name: CompanyName = None,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Score one company with the annual model (five ratios)."""
    apply_json(json_output)
    ratios = {
        "long_term_debt_to_total_capital": long_term_debt_to_total_capital,
        "total_debt_to_ebitda": total_debt_to_ebitda,
        "net_income_margin": net_income_margin,
        "ebit_to_interest_expense": ebit_to_interest_expense,
        "return_on_assets": return_on_assets,
    }
    company = {
        "company_symbol": company_symbol,
        "reporting_year": reporting_year,
        "reporting_quarter": _quarter(reporting_quarter),
    }
    remote_options = {
        "remote": remote,
        "company_name": company_name,
        "api_url": api_url,
        "org": org,
        "horizon": horizon,
    }
    _score("annual", ratios, company, model_dir=model_dir, **remote_options)


@app.command(epilog=_QUARTERLY_EPILOG)
@console.reports_errors
def quarterly(
    total_debt_to_ebitda: DebtEbitda = None,
    sga_margin: SgaMargin = None,
    long_term_debt_to_total_capital: LtdCapital = None,
    return_on_capital: ReturnOnCapital = None,
    company_symbol: Symbol = None,
    reporting_year: Year = None,
    reporting_quarter: Quarter = None,
    model_dir: ModelDirOption = None,
    horizon: HorizonOption = None,
    remote: Remote = False,
    company_name: CompanyName = None,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Score one company with the quarterly model (four ratios)."""
    apply_json(json_output)
    ratios = {
        "total_debt_to_ebitda": total_debt_to_ebitda,
        "sga_margin": sga_margin,
        "long_term_debt_to_total_capital": long_term_debt_to_total_capital,
        "return_on_capital": return_on_capital,
    }
    company = {
        "company_symbol": company_symbol,
        "reporting_year": reporting_year,
        "reporting_quarter": _quarter(reporting_quarter),
    }
    remote_options = {
        "remote": remote,
        "company_name": company_name,
        "api_url": api_url,
        "org": org,
        "horizon": horizon,
    }
    _score("quarterly", ratios, company, model_dir=model_dir, **remote_options)
