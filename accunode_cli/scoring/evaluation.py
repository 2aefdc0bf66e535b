"""Measure a model on labelled rows: discrimination, calibration, and the generator's best case.

When the table carries ``true_pd`` (the generator's own probability), every measure is also
computed for it: the best any model could do on those rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from accunode_cli.errors import InputError
from accunode_cli.scoring.engine import PDModel, load_model

__all__ = ["measure", "calibration_table", "metrics_for", "evaluate_model", "roc_curve"]


def roc_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (false positive rate, true positive rate) at every distinct PD, from (0, 0).

    Tied PDs form one point, so the trapezoid area under the curve is the AUC with ties
    counted as half (the Mann-Whitney statistic, as scikit-learn computes it).
    """
    order = np.argsort(-p, kind="stable")
    scores, hits = p[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(scores) != 0), scores.size - 1]
    tp = np.cumsum(hits)[last]
    fp = (last + 1) - tp
    positives, negatives = max(float(tp[-1]), 1.0), max(float(fp[-1]), 1.0)
    return np.r_[0.0, fp / negatives], np.r_[0.0, tp / positives]


def calibration_table(y: np.ndarray, p: np.ndarray, *, groups: int = 10) -> list[dict[str, Any]]:
    """Return predicted versus observed default rates by PD decile (lowest PD first)."""
    order = np.argsort(p, kind="stable")
    rows = []
    for index, part in enumerate(np.array_split(order, groups), start=1):
        if part.size == 0:
            continue
        rows.append({
            "decile": index, "rows": int(part.size), "defaults": int(y[part].sum()),
            "mean_pd": float(p[part].mean()), "observed_rate": float(y[part].mean()),
            "min_pd": float(p[part].min()), "max_pd": float(p[part].max()),
        })  # fmt: skip
    return rows


def measure(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Return AUC, accuracy ratio, KS, Brier, log loss, means and the decile calibration."""
    from accunode_cli.scoring.logistic import log_loss

    auc = ks = float("nan")
    if len(np.unique(y)) == 2:
        fpr, tpr = roc_curve(y, p)
        auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)
        ks = float(np.max(tpr - fpr))
    result = {
        "rows": int(y.size), "defaults": int(y.sum()), "auc": auc, "accuracy_ratio": 2 * auc - 1,
        "ks": ks, "brier": float(np.mean((p - y) ** 2)), "log_loss": log_loss(y, p),
        "mean_pd": float(p.mean()), "observed_rate": float(y.mean()),
        "calibration": calibration_table(y, p),
    }  # fmt: skip
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in result.items()
    }


def _labels(table: Any) -> np.ndarray:
    if "default" not in table.column_names:
        raise InputError(
            "the table needs an outcome column ('default', 'defaulted' or 'bankrupt', or name "
            "it with --target) to be evaluated"
        )
    y = np.asarray(table.column("default").to_numpy(zero_copy_only=False), dtype=np.float64)
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise InputError("the 'default' column must hold only 0 or 1")
    return y


def metrics_for(model: PDModel, table: Any, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Score the table's rows with the model and measure them (and ``true_pd`` when present)."""
    part = table if rows is None else table.take(rows)
    y = _labels(part)
    scored = model.score_record_batch(part)
    usable = ~np.isnan(scored.probability)
    result: dict[str, Any] = {"model": measure(y[usable], scored.probability[usable])}
    result["model"]["unscored_rows"] = int((~usable).sum())
    if "true_pd" in part.column_names:
        truth = np.asarray(part.column("true_pd").to_numpy(zero_copy_only=False), dtype=float)
        result["true_pd"] = measure(y[usable], truth[usable])
    return result


def _plot(
    report: Path, metrics: dict[str, Any], curves: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    for label, (y, p) in curves.items():
        fpr, tpr = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{label} (AUC {metrics[label]['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(report / "roc.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    for label in curves:
        table = metrics[label]["calibration"]
        ax.loglog([r["mean_pd"] for r in table], [max(r["observed_rate"], 1e-5) for r in table],
                  marker="o", label=label)  # fmt: skip
    ax.plot([1e-5, 1], [1e-5, 1], color="grey", linestyle=":")
    ax.set(xlabel="mean predicted PD (decile)", ylabel="observed default rate",
           title="Calibration by PD decile")  # fmt: skip
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(report / "calibration.png")
    plt.close(fig)
    _reliability(report / "reliability.png", curves)


def _reliability(path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Reliability diagram: observed rate against mean PD in 10 equal-count bins, with 95 %
    binomial (Wilson) intervals, on linear axes; below it, how many rows fall at each PD."""
    import matplotlib.pyplot as plt

    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.5, 6.5), dpi=110, sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    top = 0.0
    for label, (y, p) in curves.items():
        table = calibration_table(y, p)
        mean = np.array([r["mean_pd"] for r in table])
        rate = np.array([r["observed_rate"] for r in table])
        n = np.array([r["rows"] for r in table], dtype=float)
        centre = (rate + 1.92 / n) / (1 + 3.84 / n)
        half = 1.96 * np.sqrt(rate * (1 - rate) / n + 0.96 / n**2) / (1 + 3.84 / n)
        ax.errorbar(mean, rate, yerr=[rate - (centre - half), centre + half - rate], marker="o",
                    capsize=3, label=label)  # fmt: skip
        hist.hist(p, bins=50, range=(0, max(float(p.max()), 1e-9)), histtype="step", label=label)
        top = max(top, float(mean.max()), float((centre + half).max()))
    ax.plot([0, top], [0, top], color="grey", linestyle=":", label="perfect calibration")
    ax.set(ylabel="observed default rate", title="Reliability (10 equal-count PD bins, 95 % CI)")
    ax.legend(loc="lower right")
    hist.set(xlabel="predicted PD", ylabel="rows", yscale="log")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def evaluate_model(
    kind: str, table: Any, report_dir: str | Path, *, model_dir: str | Path | None = None
) -> dict[str, Any]:
    """Evaluate a model on a labelled table; write report.json and the plots.

    For a recalibrated model the report also measures its parent (the model before the last
    recalibration) on the same rows: ``recalibration`` holds the step and both measures.
    """
    model = load_model(kind, model_dir)
    metrics = metrics_for(model, table)
    metrics["model_version"] = model.version
    report = Path(report_dir)
    report.mkdir(parents=True, exist_ok=True)
    y = _labels(table)
    scored = model.score_record_batch(table).probability
    usable = ~np.isnan(scored)
    curves = {"model": (y[usable], scored[usable])}
    if "parent" in model.manifest:
        parent = load_model(kind, model_dir, parent=True)
        before = parent.score_record_batch(table).probability[usable]
        step = model.manifest["recalibration"]
        metrics["recalibration"] = {
            "parent_version": parent.version, "method": step["method"],
            "intercept": step["intercept"], "slope": step["slope"],
            "before": measure(y[usable], before), "after": metrics["model"],
        }  # fmt: skip
        curves = {"before recalibration": (y[usable], before), **curves}
    if "true_pd" in metrics:
        truth = np.asarray(table.column("true_pd").to_numpy(zero_copy_only=False), dtype=float)
        curves["true_pd"] = (y[usable], truth[usable])
    measured: dict[str, Any] = {k: metrics[k] for k in ("model", "true_pd") if k in metrics}
    if "recalibration" in metrics:
        measured["before recalibration"] = metrics["recalibration"]["before"]
    _plot(report, measured, curves)
    (report / "report.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    metrics["files"] = [
        str(report / name)
        for name in ("report.json", "roc.png", "calibration.png", "reliability.png")
    ]
    return metrics
