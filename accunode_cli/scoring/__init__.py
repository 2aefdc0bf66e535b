"""Scoring core: ratios in, probability of default out. Pure: no database, web or CLI code.

Inference imports numpy (and pyarrow for text cells) only; training and evaluation live in
``accunode_cli.scoring.training`` and ``accunode_cli.scoring.evaluation`` and import
scikit-learn, scipy, pandas, lightgbm and matplotlib when called.
"""

from accunode_cli.scoring.cleaning import (
    INVALID,
    MISSING,
    NOT_MEANINGFUL,
    OK,
    STATUS_NAMES,
    CleanColumn,
    clean_column,
)
from accunode_cli.scoring.engine import PDModel, load_model
from accunode_cli.scoring.outputs import (
    RATING_BOUNDARIES,
    RATINGS,
    RISK_BOUNDARIES,
    RISK_LEVELS,
    implied_rating_for,
    risk_level_for,
)
from accunode_cli.scoring.ratios import (
    ANNUAL_RATIOS,
    KINDS,
    QUARTERLY_RATIOS,
    QUARTERS,
    Kind,
    RatioSpec,
    fold_column_name,
    normalise_quarter,
    ratio_names,
    ratio_specs,
)
from accunode_cli.scoring.results import Score, ScoredBatch

__all__ = [
    "ANNUAL_RATIOS",
    "INVALID",
    "KINDS",
    "MISSING",
    "NOT_MEANINGFUL",
    "OK",
    "QUARTERLY_RATIOS",
    "QUARTERS",
    "RATINGS",
    "RATING_BOUNDARIES",
    "RISK_BOUNDARIES",
    "RISK_LEVELS",
    "STATUS_NAMES",
    "CleanColumn",
    "Kind",
    "PDModel",
    "RatioSpec",
    "Score",
    "ScoredBatch",
    "clean_column",
    "fold_column_name",
    "implied_rating_for",
    "load_model",
    "normalise_quarter",
    "ratio_names",
    "ratio_specs",
    "risk_level_for",
]
