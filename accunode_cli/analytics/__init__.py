"""Beyond a single PD: population drift, stress scenarios and a PD term structure.

Pure functions over the scoring core (imports ``scoring`` and ``errors`` only): they take
batches of raw ratio columns, so the CLI streams files into them and the server passes rows.
"""

from accunode_cli.analytics.drift import (
    SHIFTED_ABOVE,
    STABLE_BELOW,
    DriftReport,
    Population,
    drift_of_batches,
    drift_of_rows,
    drift_report,
    drift_status,
    population_of,
    psi,
)
from accunode_cli.analytics.scenarios import (
    SHIPPED_SCENARIOS,
    Scenario,
    Shock,
    load_scenario,
    parse_scenario,
    scenario_from_shocks,
    zero_scenario,
)
from accunode_cli.analytics.stress import (
    StressSummary,
    shock_columns,
    stress_columns,
    stress_one,
    stress_table,
)
from accunode_cli.analytics.term import (
    MAX_HORIZON,
    check_horizon,
    cumulative_pds,
    horizon_arrays,
    horizon_columns,
)

__all__ = [
    "MAX_HORIZON",
    "SHIFTED_ABOVE",
    "SHIPPED_SCENARIOS",
    "STABLE_BELOW",
    "DriftReport",
    "Population",
    "Scenario",
    "Shock",
    "StressSummary",
    "check_horizon",
    "cumulative_pds",
    "drift_of_batches",
    "drift_of_rows",
    "drift_report",
    "drift_status",
    "horizon_arrays",
    "horizon_columns",
    "load_scenario",
    "parse_scenario",
    "population_of",
    "psi",
    "scenario_from_shocks",
    "shock_columns",
    "stress_columns",
    "stress_one",
    "stress_table",
    "zero_scenario",
]
