"""Drift report pictures: one PNG per ratio (and one for the score), reference vs current.

matplotlib is imported here only, when a report is asked for; an installation without it
gets one clear line saying how to add it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accunode_cli.analytics.drift import BinShare, DriftReport
from accunode_cli.errors import AccuNodeError, ConfigError, UsageError

__all__ = ["prepare_report", "write_drift_pngs"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ConfigError(
            "--report needs matplotlib, which is not installed: pip install 'accunode[train]' "
            "(or pip install matplotlib)",
            details={"missing": ["matplotlib"], "extra": "train"},
        ) from error
    return plt


def _plot(plt: Any, path: Path, title: str, bins: list[BinShare]) -> None:
    figure, axes = plt.subplots(figsize=(max(6.0, 0.45 * len(bins) + 2), 4.0))
    positions = range(len(bins))
    axes.bar([p - 0.2 for p in positions], [b.reference * 100 for b in bins], 0.4,
             label="reference", color="#8c9eb5")  # fmt: skip
    axes.bar([p + 0.2 for p in positions], [b.current * 100 for b in bins], 0.4,
             label="current", color="#d9822b")  # fmt: skip
    axes.set_xticks(list(positions), [b.bin for b in bins], rotation=60, ha="right", fontsize=7)
    axes.set_ylabel("share of rows (%)")
    axes.set_title(title, fontsize=10)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)


def prepare_report(folder: str | Path) -> Path:
    """Check that a report can be written (matplotlib present, folder creatable) before work."""
    _pyplot()
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the report folder {out}: {error.strerror}") from error
    return out


def write_drift_pngs(report: DriftReport, folder: str | Path) -> list[Path]:
    """Write one PNG per ratio and one for the score into ``folder``; return their paths."""
    plt = _pyplot()
    out = prepare_report(folder)
    written = []
    try:
        for ratio in report.ratios:
            path = out / f"{ratio.name}.png"
            title = f"{ratio.label}: PSI {ratio.psi:.3f} ({ratio.status})"
            _plot(plt, path, title, ratio.bins)
            written.append(path)
        path = out / "score.png"
        _plot(plt, path, f"Score: PSI {report.score.psi:.3f} ({report.score.status})",
              report.score.bins)  # fmt: skip
        written.append(path)
    except OSError as error:
        raise AccuNodeError(f"cannot write the drift report in {out}: {error}") from error
    return written
