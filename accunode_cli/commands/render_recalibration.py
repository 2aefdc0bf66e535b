"""Print a recalibration's before/after figures (used by `model recalibrate` and `evaluate`)."""

from __future__ import annotations

from typing import Any

from accunode_cli import console

__all__ = ["print_before_after"]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


_MEASURES = (
    ("rows", "rows", lambda v: f"{v:,}"),
    ("defaults", "defaults", lambda v: f"{v:,}"),
    ("AUC", "auc", lambda v: f"{v:.4f}"),
    ("log loss", "log_loss", lambda v: f"{v:.4f}"),
    ("Brier", "brier", lambda v: f"{v:.5f}"),
    ("mean PD", "mean_pd", _percent),
    ("observed rate", "observed_rate", _percent),
)


def print_before_after(title: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Print the measures before and after, then (with outcomes) calibration by PD decile."""
    rows = [
        [label, fmt(before[key]), fmt(after[key])]
        for label, key, fmt in _MEASURES
        if before.get(key) is not None and after.get(key) is not None
    ]
    console.print_table(title, ["measure", "before", "after"], rows, right_align=(1, 2))
    if "calibration" not in before or "calibration" not in after:
        return
    deciles = [
        [b["decile"], f"{b['rows']:,}", f"{b['defaults']:,}", _percent(b["observed_rate"]),
         _percent(b["mean_pd"]), _percent(a["mean_pd"])]
        for b, a in zip(before["calibration"], after["calibration"], strict=True)
    ]  # fmt: skip
    console.print_table(
        "Calibration by PD decile (same deciles before and after)",
        ["decile", "rows", "defaults", "observed", "mean PD before", "mean PD after"],
        deciles,
        right_align=range(0, 6),
    )
