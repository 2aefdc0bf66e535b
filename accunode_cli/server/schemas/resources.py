"""Schemas of companies and predictions; the ratio names are the bulk file's column names."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accunode_cli.server.schemas.common import Ratio, RatioIn

__all__ = [
    "CompanyCreate",
    "CompanyUpdate",
    "CompanyPublic",
    "CompanyDetailPublic",
    "AnnualPredictionCreate",
    "AnnualPredictionUpdate",
    "AnnualPredictionPublic",
    "QuarterlyPredictionCreate",
    "QuarterlyPredictionUpdate",
    "QuarterlyPredictionPublic",
    "AnnualPredictionRead",
    "QuarterlyPredictionRead",
    "RiskLevel",
]

RiskLevel = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
Year = Field(ge=1900, le=2200)
Money = Field(default=None, allow_inf_nan=False)
Symbol = Field(min_length=1, max_length=32, pattern=r"^\s*\S.*$")


class CompanyCreate(BaseModel):
    """A company of your organization; the symbol is unique inside it (case-insensitive)."""

    symbol: str = Symbol
    name: str = Field(min_length=1, max_length=200)
    sector: str | None = Field(default=None, max_length=100)
    market_cap: float | None = Money

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "symbol": "ACME",
                    "name": "Acme Corp",
                    "sector": "Industrials",
                    "market_cap": 2.5e9,
                }
            ]
        },
    )


class CompanyUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    symbol: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^\s*\S.*$")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    sector: str | None = Field(default=None, max_length=100)
    market_cap: float | None = Money

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sector": "Utilities"}]}
    )


class CompanyPublic(BaseModel):
    """A company."""

    id: uuid.UUID
    symbol: str
    name: str
    sector: str | None
    market_cap: float | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)


class _CompanyRef(BaseModel):
    company_id: uuid.UUID | None = Field(default=None, description="An existing company")
    company_symbol: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        pattern=r"^\s*\S.*$",
        description="Or a symbol: the company is created on first use",
    )
    company_name: str | None = Field(default=None, min_length=1, max_length=200)
    sector: str | None = Field(default=None, max_length=100)
    market_cap: float | None = Money
    reporting_year: int = Year

    @model_validator(mode="after")
    def _one_company(self) -> Any:
        if (self.company_id is None) == (self.company_symbol is None):
            raise ValueError("give exactly one of company_id and company_symbol")
        return self


class AnnualRatios(BaseModel):
    """The five annual ratios; any may be null (missing)."""

    long_term_debt_to_total_capital: Ratio = Field(default=None, description="percent")
    total_debt_to_ebitda: Ratio = Field(default=None, description="multiple (x)")
    net_income_margin: Ratio = Field(default=None, description="percent")
    ebit_to_interest_expense: Ratio = Field(default=None, description="multiple (x)")
    return_on_assets: Ratio = Field(default=None, description="percent")


class QuarterlyRatios(BaseModel):
    """The four quarterly ratios; any may be null (missing)."""

    total_debt_to_ebitda: Ratio = Field(default=None, description="multiple (x)")
    sga_margin: Ratio = Field(default=None, description="percent")
    long_term_debt_to_total_capital: Ratio = Field(default=None, description="percent")
    return_on_capital: Ratio = Field(default=None, description="percent")


class AnnualRatiosIn(BaseModel):
    """The five annual ratios as sent: numbers, text the CLI reads ("12.5%", "NM") or null."""

    long_term_debt_to_total_capital: RatioIn = Field(default=None, description="percent")
    total_debt_to_ebitda: RatioIn = Field(default=None, description="multiple (x)")
    net_income_margin: RatioIn = Field(default=None, description="percent")
    ebit_to_interest_expense: RatioIn = Field(default=None, description="multiple (x)")
    return_on_assets: RatioIn = Field(default=None, description="percent")


class QuarterlyRatiosIn(BaseModel):
    """The four quarterly ratios as sent: numbers, text the CLI reads ("12.5%", "NM") or null."""

    total_debt_to_ebitda: RatioIn = Field(default=None, description="multiple (x)")
    sga_margin: RatioIn = Field(default=None, description="percent")
    long_term_debt_to_total_capital: RatioIn = Field(default=None, description="percent")
    return_on_capital: RatioIn = Field(default=None, description="percent")


_ANNUAL_EXAMPLE: dict[str, Any] = {
    "company_symbol": "ACME",
    "company_name": "Acme Corp",
    "reporting_year": 2024,
    "long_term_debt_to_total_capital": 35.0,
    "total_debt_to_ebitda": 2.1,
    "net_income_margin": 8.5,
    "ebit_to_interest_expense": 9.2,
    "return_on_assets": 6.1,
}
_QUARTERLY_EXAMPLE: dict[str, Any] = {
    "company_symbol": "ACME",
    "company_name": "Acme Corp",
    "reporting_year": 2024,
    "reporting_quarter": "Q2",
    "total_debt_to_ebitda": 2.4,
    "sga_margin": 18.0,
    "long_term_debt_to_total_capital": 38.0,
    "return_on_capital": 7.5,
}


class AnnualPredictionCreate(AnnualRatiosIn, _CompanyRef):
    """Score and store one company-year."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ANNUAL_EXAMPLE]})


class QuarterlyPredictionCreate(QuarterlyRatiosIn, _CompanyRef):
    """Score and store one company-quarter."""

    reporting_quarter: str = Field(
        min_length=1, max_length=3, description="Q1..Q4 (1..4 accepted)", examples=["Q2"]
    )

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_QUARTERLY_EXAMPLE]})

    @field_validator("reporting_quarter", mode="before")
    @classmethod
    def _quarter(cls, value: Any) -> str:
        from accunode_cli.scoring import normalise_quarter

        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("reporting_quarter must be Q1..Q4 or 1..4")
        try:
            return normalise_quarter(value)
        except Exception as exc:  # InputError: reported as a field error
            raise ValueError("reporting_quarter must be Q1..Q4 or 1..4") from exc


class AnnualPredictionUpdate(AnnualRatiosIn):
    """New ratios (omitted ones keep their value, null makes one missing); rescored."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"net_income_margin": -12.0}]}
    )


class QuarterlyPredictionUpdate(QuarterlyRatiosIn):
    """New ratios (omitted ones keep their value, null makes one missing); rescored."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sga_margin": 25.0}]}
    )


class _PredictionOut(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    company_symbol: str
    company_name: str
    reporting_year: int
    probability: float = Field(description="Probability of default within 12 months (0-1)")
    log_odds: float
    risk_level: RiskLevel
    implied_rating: str
    contributions: dict[str, float] = Field(description="Per-ratio log-odds; they add up")
    flags: dict[str, str] = Field(
        description="Ratios that were missing, not meaningful or out of range"
    )
    model_version: str
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    job_id: uuid.UUID | None = Field(default=None, description="The bulk-upload job that stored it")
    row_number: int | None = Field(default=None, description="Its row in that job's file")


class AnnualPredictionPublic(AnnualRatios, _PredictionOut):
    """A stored annual prediction."""


class QuarterlyPredictionPublic(QuarterlyRatios, _PredictionOut):
    """A stored quarterly prediction."""

    reporting_quarter: Literal["Q1", "Q2", "Q3", "Q4"]


_CUMULATIVE_PD = Field(
    default=None,
    description="Cumulative PD by year, 1y .. <horizon>y (1y is `probability`); only with "
    "`?horizon=`, absent otherwise",
)


class AnnualPredictionRead(AnnualPredictionPublic):
    """A stored annual prediction as read (GET), with cumulative PDs when asked for."""

    cumulative_pd: dict[str, float] | None = _CUMULATIVE_PD


class QuarterlyPredictionRead(QuarterlyPredictionPublic):
    """A stored quarterly prediction as read (GET), with cumulative PDs when asked for."""

    cumulative_pd: dict[str, float] | None = _CUMULATIVE_PD


class CompanyDetailPublic(CompanyPublic):
    """A company with its latest annual and quarterly predictions."""

    latest_annual_prediction: AnnualPredictionPublic | None = None
    latest_quarterly_prediction: QuarterlyPredictionPublic | None = None
