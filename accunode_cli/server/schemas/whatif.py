"""Schemas of the what-if routes: ratios and a scenario in, baseline and stressed out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accunode_cli.server.schemas.resources import AnnualRatios, QuarterlyRatios, RiskLevel

__all__ = ["AnnualWhatIf", "QuarterlyWhatIf", "WhatIfPublic"]

_RATIO_NAMES = set(AnnualRatios.model_fields) | set(QuarterlyRatios.model_fields)
ShockValue = float | dict[Literal["points", "factor"], float]


class _WhatIf(BaseModel):
    scenario: Literal["mild", "recession", "severe"] | None = Field(
        default=None, description="A shipped scenario (see the model card)"
    )
    shocks: dict[str, ShockValue] | None = Field(
        default=None,
        max_length=8,
        description="Or inline shocks per ratio: points added for percentage ratios, a factor "
        'for multiples; a bare number means the ratio\'s own kind, e.g. {"net_income_margin": '
        '-3, "total_debt_to_ebitda": 1.25}',
    )
    sector: str | None = Field(
        default=None, max_length=100, description="The company's sector, for sector shocks"
    )
    horizon: int = Field(default=1, ge=1, le=5, description="Cumulative PDs for 1..horizon years")

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_ratio(cls, data: Any) -> Any:
        if isinstance(data, dict):  # pydantic's lax float would read true as 1.0
            flags = [k for k, v in data.items() if k in _RATIO_NAMES and isinstance(v, bool)]
            if flags:
                raise ValueError(f"{', '.join(flags)}: a ratio must be a number, not true/false")
        return data

    @model_validator(mode="after")
    def _one_scenario(self) -> Any:
        if (self.scenario is None) == (self.shocks is None):
            raise ValueError("give exactly one of scenario and shocks")
        return self


class AnnualWhatIf(AnnualRatios, _WhatIf):
    """Score annual ratios as they are and under a scenario; nothing is stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "long_term_debt_to_total_capital": 35.0,
                    "total_debt_to_ebitda": 2.1,
                    "net_income_margin": 8.5,
                    "ebit_to_interest_expense": 9.2,
                    "return_on_assets": 6.1,
                    "scenario": "recession",
                    "horizon": 5,
                }
            ]
        },
    )


class QuarterlyWhatIf(QuarterlyRatios, _WhatIf):
    """Score quarterly ratios as they are and under a scenario; nothing is stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "total_debt_to_ebitda": 2.4,
                    "sga_margin": 18.0,
                    "long_term_debt_to_total_capital": 38.0,
                    "return_on_capital": 7.5,
                    "shocks": {"total_debt_to_ebitda": 1.4, "return_on_capital": -4},
                }
            ]
        },
    )


class WhatIfScore(BaseModel):
    """One side of a what-if: the score and its cumulative PDs."""

    probability: float
    log_odds: float
    risk_level: RiskLevel
    implied_rating: str
    contributions: dict[str, float]
    flags: dict[str, str]
    cumulative_pd: dict[str, float] = Field(description="Cumulative PD by year: 1y .. <horizon>y")


class WhatIfScenario(BaseModel):
    """The scenario as applied to this company (its kind's ratios, its sector)."""

    name: str
    description: str
    shocks: dict[str, dict[str, float]]


class WhatIfPublic(BaseModel):
    """Baseline and stressed scores of one company."""

    kind: Literal["annual", "quarterly"]
    model_version: str
    scenario: WhatIfScenario
    baseline: WhatIfScore
    stressed: WhatIfScore
    probability_change: float
