"""Recalibrate a model to a new population: a logistic map of its log-odds, nothing else.

A model that ranks a portfolio well can still be wrong about the level or the spread of its
PDs there (another base rate, another economy, real data rather than generated). The usual
remedy in credit risk keeps the model and maps its score:

    log_odds' = a + b * log_odds

- **logistic** (``a`` and ``b``): maximum likelihood on a labelled sample with at least
  MIN_DEFAULTS_SLOPE defaults (and as many non-defaults). ``b < 1`` spreads the PDs less
  (an overconfident model), ``b > 1`` more.
- **intercept** (``a`` only, ``b = 1``): for a labelled sample with MIN_DEFAULTS to
  MIN_DEFAULTS_SLOPE - 1 defaults, too few to estimate a slope. A sample with fewer than
  MIN_DEFAULTS defaults (or non-defaults) is refused: its default rate alone is uncertain
  by more than a third.
- **central tendency** (``a`` only): no labels; ``a`` moves the sample's mean PD to a stated
  long-run default rate.

Because ``b > 0`` the map is increasing: the ranking, and so AUC, accuracy ratio and KS, never
change. The engine applies it to the compiled model (``b`` scales every ratio's function and
the base, ``a`` adds to the base), so contributions are scaled by ``b`` and still add up to the
score. Maps compose: recalibrating a recalibrated model stacks one more step. Pure numpy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from accunode_cli.errors import InputError

__all__ = [
    "MIN_DEFAULTS",
    "MIN_DEFAULTS_SLOPE",
    "FILE",
    "compose",
    "fit_recalibration",
    "central_tendency_shift",
    "recalibrate_model",
    "sample_sha256",
]

MIN_DEFAULTS = 10  # fewer defaults or non-defaults: the sample says too little, refused
MIN_DEFAULTS_SLOPE = 50  # fewer: intercept only (the slope would be noise)
FILE = "recalibration.json"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def compose(steps: list[dict[str, Any]]) -> tuple[float, float]:
    """Return (a, b) of the steps applied in order: z -> a_k + b_k * (... (a_1 + b_1 z))."""
    a, b = 0.0, 1.0
    for step in steps:
        slope = float(step["slope"])
        if not (np.isfinite(slope) and slope > 0 and np.isfinite(float(step["intercept"]))):
            raise ValueError("a recalibration step needs a finite intercept and a positive slope")
        a, b = float(step["intercept"]) + slope * a, slope * b
    return a, b


def _newton(z: np.ndarray, y: np.ndarray, fit_slope: bool) -> tuple[float, float]:
    """Maximise the Bernoulli likelihood of y under sigmoid(a + b z) by damped Newton steps."""
    rate = float(y.mean())
    theta = np.array([np.log(rate / (1 - rate)) - float(np.median(z)), 1.0])
    x = np.column_stack([np.ones_like(z), z])

    def loss(t: np.ndarray) -> float:
        s = x @ t
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    current = loss(theta)
    for _ in range(100):
        p = _sigmoid(x @ theta)
        grad = x.T @ (p - y) / y.size
        w = p * (1 - p) / y.size
        if fit_slope:
            hess = (x * w[:, None]).T @ x
            step = np.linalg.solve(hess + 1e-12 * np.eye(2), grad)
        else:
            step = np.array([grad[0] / max(float(w.sum()), 1e-300), 0.0])
        scale = 1.0
        while scale > 1e-6:
            trial = theta - scale * step
            value = loss(trial)
            if value <= current:
                break
            scale /= 2
        theta, improved = trial, current - value
        current = value
        if np.max(np.abs(scale * step)) < 1e-12 or improved < 1e-16:
            break
    return float(theta[0]), float(theta[1])


def fit_recalibration(z: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Fit the map on a labelled sample's log-odds; return the step (method, intercept, slope).

    Refuses (InputError) a sample with fewer than MIN_DEFAULTS defaults or non-defaults, and a
    sample on which the model's ranking runs backwards (no positive slope fits).
    """
    defaults, rows = int(y.sum()), int(y.size)
    fewest = min(defaults, rows - defaults)
    if fewest < MIN_DEFAULTS:
        raise InputError(
            f"the sample has {defaults} defaults among {rows} rows; recalibration needs at least "
            f"{MIN_DEFAULTS} defaults and {MIN_DEFAULTS} non-defaults to say anything (and "
            f"{MIN_DEFAULTS_SLOPE} to fit a slope); use more years or firms, or state the "
            "long-run default rate with --central-tendency",
            details={"rows": rows, "defaults": defaults, "min_defaults": MIN_DEFAULTS},
        )
    fit_slope = fewest >= MIN_DEFAULTS_SLOPE
    a, b = _newton(z, y.astype(np.float64), fit_slope)
    if not (np.isfinite(a) and np.isfinite(b)) or b <= 0:
        raise InputError(
            f"on this sample the model's PDs rank defaults no better than chance (fitted slope "
            f"{b:.3g}); recalibration cannot fix ranking: train a model on such data with "
            "`accunode model train`",
            details={"slope": b},
        )
    return {"method": "logistic" if fit_slope else "intercept", "intercept": a, "slope": b}


def central_tendency_shift(z: np.ndarray, rate: float) -> dict[str, Any]:
    """Return the intercept-only step that moves the mean PD of log-odds z to ``rate``."""
    if not 0.0 < rate < 1.0:
        raise InputError(
            f"--central-tendency must be a default rate between 0 and 1 (0.03 for 3 %), not {rate}",
            details={"central_tendency": rate},
        )
    if z.size == 0:
        raise InputError("the sample has no scorable rows to shift")
    low, high = -50.0, 50.0  # mean PD is increasing in the shift: bisect, then polish by Newton
    for _ in range(200):
        mid = 0.5 * (low + high)
        if float(_sigmoid(z + mid).mean()) < rate:
            low = mid
        else:
            high = mid
        if high - low < 1e-13:
            break
    a = 0.5 * (low + high)
    for _ in range(3):
        p = _sigmoid(z + a)
        derivative = float((p * (1 - p)).mean())
        if derivative <= 0:
            break
        a -= (float(p.mean()) - rate) / derivative
    return {"method": "central_tendency", "intercept": float(a), "slope": 1.0, "target": rate}


def sample_sha256(kind: str, table: Any) -> str:
    """Return the sha256 of a sample's cleaned ratios (and outcomes): format-independent."""
    from accunode_cli.scoring.cleaning import apply_floor, clean_column
    from accunode_cli.scoring.ratios import ratio_specs

    digest = hashlib.sha256()
    for spec in ratio_specs(kind):
        if spec.name in table.column_names:
            column = apply_floor(clean_column(table.column(spec.name)), spec.min_meaningful)
            digest.update(np.ascontiguousarray(column.values).tobytes())
            digest.update(np.ascontiguousarray(column.status).tobytes())
    if "default" in table.column_names:
        labels = table.column("default").to_numpy(zero_copy_only=False)
        digest.update(np.ascontiguousarray(labels, dtype=np.int8).tobytes())
    return digest.hexdigest()


def _labels(table: Any) -> np.ndarray | None:
    if "default" not in table.column_names:
        return None
    y = np.asarray(table.column("default").to_numpy(zero_copy_only=False), dtype=np.float64)
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise InputError("the 'default' column must hold only 0 or 1")
    return y


def recalibrate_model(
    kind: str,
    table: Any,
    out_dir: str | Path,
    *,
    model_dir: str | Path | None = None,
    central_tendency: float | None = None,
    sample_name: str | None = None,
) -> dict[str, Any]:
    """Recalibrate a model folder on a sample; write the new model to ``out_dir``.

    Return the new manifest, plus ``before`` and ``after`` measures on the sample's scorable
    rows when it carries outcomes (for a central-tendency shift, mean PDs only).
    """
    from accunode_cli import __version__
    from accunode_cli.scoring import artifacts
    from accunode_cli.scoring.engine import load_model
    from accunode_cli.scoring.evaluation import measure

    parent = load_model(kind, model_dir)
    folder = Path(model_dir) if model_dir is not None else artifacts.shipped_model_dir(kind)
    z = parent.score_record_batch(table).log_odds
    usable = ~np.isnan(z)
    y = _labels(table)
    if central_tendency is not None:
        step = central_tendency_shift(z[usable], central_tendency)
    elif y is None:
        raise InputError(
            "the sample has no outcome column: give each row's default (a 'default' column, or "
            "--target NAME), or state the long-run default rate with --central-tendency"
        )
    else:
        step = fit_recalibration(z[usable], y[usable])
    step["sample"] = {
        "sha256": sample_sha256(kind, table), "rows": int(table.num_rows),
        "scored_rows": int(usable.sum()),
        "defaults": None if y is None else int(y[usable].sum()), "name": sample_name,
    }  # fmt: skip
    files = artifacts.read_verified(folder, parent.manifest)
    previous = list(_steps(files))
    files[FILE] = artifacts.dump_json({"steps": [*previous, step]})
    hashes = {name: artifacts.sha256_bytes(body) for name, body in sorted(files.items())}
    content = artifacts.sha256_bytes("".join(hashes.values()).encode())
    date = artifacts.build_date()
    manifest = {key: value for key, value in parent.manifest.items() if key != "metrics"}
    manifest.update({
        "version": f"{kind}-{date.replace('-', '.')}-{content[:8]}", "created": date,
        "accunode_version": __version__, "files": hashes,
        "parent": {"version": parent.version, "base_log_odds": parent.base_log_odds},
        "recalibration": {key: value for key, value in step.items()},
        "metrics": {},
    })  # fmt: skip
    out = Path(out_dir)
    staged = out.parent / f".{out.name}.recalibrating"
    artifacts.write_model_folder(staged, files, manifest)
    try:
        model = load_model(kind, staged)
        after = model.score_record_batch(table).probability[usable]
        before = np.exp(-np.logaddexp(0.0, -z[usable]))
        result: dict[str, Any] = {"method": step["method"]}
        if y is not None:
            result["before"] = measure(y[usable], before)
            result["after"] = measure(y[usable], after)
            manifest["metrics"] = {"recalibration sample": {"model": result["after"]}}
        else:
            result["before"] = {"rows": int(usable.sum()), "mean_pd": float(before.mean())}
            result["after"] = {"rows": int(usable.sum()), "mean_pd": float(after.mean())}
        manifest["recalibration"]["before"] = result["before"]
        manifest["recalibration"]["after"] = result["after"]
        artifacts.write_model_folder(out, files, manifest)
    finally:
        if staged.exists():
            import shutil

            shutil.rmtree(staged)
    return {**manifest, "result": result}


def _steps(files: dict[str, bytes]) -> list[dict[str, Any]]:
    import json

    return list(json.loads(files[FILE])["steps"]) if FILE in files else []
