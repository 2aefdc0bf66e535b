"""Train a model folder from any table with the ratio columns and a 0/1 ``default`` column.

Split: when the table has a ``year`` column, the earliest years holding about half the rows
train the members and the later years are split by firm (``firm_id`` or ``company_symbol``
when present, else by row) into validation and test halves: out of time, and out of sample.
Without years the split is a seeded 60/20/20 shuffle. The members are fitted on the training
rows; LightGBM stops early on validation; blend weights and the Platt calibration are one
fit on the validation rows (weights on the simplex, each at least MIN_WEIGHT, and a positive
Platt slope), so monotonicity survives the blend.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accunode_cli import __version__
from accunode_cli.errors import InputError, ModelError, UsageError
from accunode_cli.scoring import artifacts
from accunode_cli.scoring.cleaning import MISSING, OK, CleanColumn, apply_floor, clean_column
from accunode_cli.scoring.engine import PDModel, compile_members
from accunode_cli.scoring.members import (
    Cleaned,
    fit_lightgbm,
    fit_scorecard,
    fit_spline,
    scorecard_log_odds,
    spline_log_odds,
)
from accunode_cli.scoring.ratios import RatioSpec, ratio_specs
from accunode_cli.scoring.reference import REFERENCE_FILE, population_reference

__all__ = [
    "Split", "clean_table", "split_rows", "train_model", "data_sha256", "training_reference",
]  # fmt: skip

MIN_DEFAULTS = 30
MIN_WEIGHT = 0.15


@dataclass(frozen=True)
class Split:
    """Row indices of the training, validation and test parts."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    description: str


def _column(table: Any, name: str) -> Any:
    return table.column(name) if name in table.column_names else None


def clean_table(kind: str, table: Any) -> Cleaned:
    """Clean a pyarrow Table's ratio columns and check its ``default`` column."""
    specs = ratio_specs(kind)
    missing = [spec.name for spec in specs if spec.name not in table.column_names]
    if missing or "default" not in table.column_names:
        needed = missing + ([] if "default" in table.column_names else ["default"])
        raise InputError(
            f"the training table lacks the column(s) {', '.join(needed)}; it needs the "
            f"{kind} ratio columns and a 0/1 'default' column",
            details={"missing_columns": needed},
        )
    columns: list[CleanColumn] = [
        apply_floor(clean_column(table.column(spec.name)), spec.min_meaningful) for spec in specs
    ]
    outcome = clean_column(table.column("default"))
    y = outcome.values
    if (outcome.status != OK).any() or not np.isin(y, (0.0, 1.0)).all():
        bad = int(np.flatnonzero((outcome.status != OK) | ~np.isin(y, (0.0, 1.0)))[0])
        raise InputError(
            f"the 'default' column must hold only 0 or 1; data row {bad + 1} does not",
            details={"row": bad + 1},
        )
    values = np.column_stack([c.values for c in columns])
    status = np.column_stack([c.status for c in columns])
    invalid = np.flatnonzero((status > 2).any(axis=1))
    if invalid.size:
        raise InputError(
            f"data row {invalid[0] + 1} has a ratio that is not a number; fix or drop such rows "
            f"({invalid.size} in all) before training",
            details={"rows": (invalid[:20] + 1).tolist()},
        )
    return Cleaned(values, status, y)


def _group_hash(keys: Any, seed: int) -> np.ndarray:
    import pyarrow.compute as pc

    hashed = pc.cast(keys, "string").to_numpy(zero_copy_only=False)
    salt = str(seed).encode()
    return np.array(
        [int.from_bytes(hashlib.blake2b(str(k).encode(), key=salt, digest_size=4).digest(), "big")
         for k in hashed],
        dtype=np.uint64,
    )  # fmt: skip


def split_rows(table: Any, *, seed: int) -> Split:
    """Split rows out of time when the table has years, else by a seeded shuffle."""
    n = table.num_rows
    years = _column(table, "year")
    if years is None:
        order = np.random.default_rng(seed).permutation(n)
        a, b = int(0.6 * n), int(0.8 * n)
        return Split(np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:]),
                     "seeded 60/20/20 shuffle (no 'year' column)")  # fmt: skip
    year = years.to_numpy(zero_copy_only=False).astype(np.int64)
    unique, counts = np.unique(year, return_counts=True)
    share = np.cumsum(counts) / n
    cutoff = int(unique[min(int(np.searchsorted(share, 0.5)), unique.size - 2)])
    early = year <= cutoff
    keys = _column(table, "firm_id")
    keys = keys if keys is not None else _column(table, "company_symbol")
    if keys is not None:
        half = (_group_hash(keys, seed) % np.uint64(2)).astype(bool)
        how = "by firm"
    else:
        half = np.random.default_rng(seed).random(n) < 0.5
        how = "by row"
    late = ~early
    description = (
        f"train {unique[0]}-{cutoff}; validation and test {cutoff + 1}-{unique[-1]}, "
        f"split in halves {how}"
    )
    return Split(np.flatnonzero(early), np.flatnonzero(late & ~half),
                 np.flatnonzero(late & half), description)  # fmt: skip


def data_sha256(data: Cleaned) -> str:
    """Return the sha256 of the cleaned training content (format-independent)."""
    digest = hashlib.sha256()
    for array in (data.values, data.status, data.y):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _reference(specs: tuple[RatioSpec, ...], data: Cleaned) -> dict[str, float]:
    reference = {}
    for j, spec in enumerate(specs):
        ok = data.status[:, j] == OK
        reference[spec.name] = float(np.median(data.values[ok, j])) if ok.any() else 0.0
    return reference


def _check_enough(split: Split, data: Cleaned) -> None:
    for label, rows in (("training", split.train), ("validation", split.valid)):
        defaults = int(data.y[rows].sum())
        if defaults < MIN_DEFAULTS or rows.size - defaults < MIN_DEFAULTS:
            raise InputError(
                f"the {label} part has {defaults} defaults among {rows.size} rows; at least "
                f"{MIN_DEFAULTS} defaults and {MIN_DEFAULTS} non-defaults are needed in each part",
                details={"part": label, "rows": int(rows.size), "defaults": defaults},
            )
    if (data.status == MISSING).all(axis=0).any():
        raise InputError("a ratio column is entirely blank; the model cannot learn from it")


def train_model(kind: str, table: Any, out_dir: str | Path, *, seed: int = 7) -> dict[str, Any]:
    """Train a model folder from a pyarrow Table; return its manifest. Deterministic per seed."""
    from accunode_cli.scoring.evaluation import metrics_for

    out_dir = check_model_destination(Path(out_dir))  # before the work, not after it
    specs = ratio_specs(kind)
    data = clean_table(kind, table)
    split = split_rows(table, seed=seed)
    _check_enough(split, data)
    train, valid = data.take(split.train), data.take(split.valid)

    card = fit_scorecard(specs, train)
    forest_text, rounds = fit_lightgbm(specs, train, valid, seed=seed)
    spline = fit_spline(specs, train) if kind == "quarterly" else None

    members = {"scorecard": scorecard_log_odds(card, valid)}
    members["lightgbm"] = _forest_log_odds(forest_text, valid)
    if spline is not None:
        members["spline"] = spline_log_odds(spline, valid)
    names = list(members)
    weights, intercept, slope = fit_blend(np.column_stack([members[m] for m in names]), valid.y)
    ensemble = {
        "weights": {m: float(w) for m, w in zip(names, weights, strict=True)},
        "calibration": {"intercept": intercept, "slope": slope, "method": "platt"},
        "reference": _reference(specs, train),
        "lightgbm_rounds": rounds,
    }
    files = {"ensemble.json": artifacts.dump_json(ensemble),
             "scorecard.json": artifacts.dump_json(card),
             "lightgbm.txt": forest_text.encode()}  # fmt: skip
    if spline is not None:
        files["spline.json"] = artifacts.dump_json(spline)
    hashes = {name: artifacts.sha256_bytes(body) for name, body in sorted(files.items())}
    content = artifacts.sha256_bytes("".join(hashes.values()).encode())
    date = artifacts.build_date()
    version = f"{kind}-{date.replace('-', '.')}-{content[:8]}"
    base, functions = compile_members(specs, ensemble, card, forest_text, spline)
    manifest: dict[str, Any] = {
        "format_version": artifacts.FORMAT_VERSION, "kind": kind, "version": version,
        "created": date, "accunode_version": __version__, "seed": seed,
        "ratios": [spec.to_dict() for spec in specs], "files": hashes,
        "training_data": {"sha256": data_sha256(data), "rows": int(data.y.size),
                          "defaults": int(data.y.sum()), "split": split.description,
                          "train_rows": int(split.train.size), "valid_rows": int(split.valid.size),
                          "test_rows": int(split.test.size)},
        "members": names, "base_log_odds": base,
    }  # fmt: skip
    model = PDModel(kind, version, specs, manifest, base, functions)
    # The drift reference changes no score, so it is hashed but stays out of the version.
    files[REFERENCE_FILE] = artifacts.dump_json(training_reference(model, card, data))
    hashes[REFERENCE_FILE] = artifacts.sha256_bytes(files[REFERENCE_FILE])
    manifest["files"] = dict(sorted(hashes.items()))
    manifest["metrics"] = {"validation": metrics_for(model, table, split.valid)}
    if split.test.size and data.y[split.test].sum() > 0:
        manifest["metrics"]["test"] = metrics_for(model, table, split.test)
    artifacts.write_model_folder(Path(out_dir), files, manifest)
    return manifest


def training_reference(model: PDModel, scorecard: dict[str, Any], data: Cleaned) -> dict[str, Any]:
    """Describe the whole training table on the model's bins (the default drift reference)."""
    columns = [CleanColumn(data.values[:, j], data.status[:, j]) for j in range(len(model.ratios))]
    log_odds, _, _ = model.score_clean(columns)
    return population_reference(model.ratio_names, scorecard, data.values, data.status, log_odds)


def fit_blend(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Fit blend weights and the Platt calibration on validation log-odds of the members.

    Minimises the log loss of ``a + c * sum_k w_k z_k`` with ``c > 0``, the weights summing to
    one and each at least ``MIN_WEIGHT``: members are strongly correlated, and an unfloored
    fit happily drops all but one of them on a single validation sample, leaving an
    "ensemble" that ignores most of its members (the predecessor's failure).
    """
    from scipy.optimize import minimize

    k = z.shape[1]

    def loss(theta: np.ndarray) -> float:
        logit = theta[0] + theta[1] * (z @ theta[2:])
        return float(np.mean(np.logaddexp(0.0, logit) - y * logit))

    start = np.r_[0.0, 1.0, np.full(k, 1.0 / k)]
    bounds = [(None, None), (1e-3, None)] + [(MIN_WEIGHT, 1.0)] * k
    constraint = {"type": "eq", "fun": lambda theta: theta[2:].sum() - 1.0}
    result = minimize(loss, start, method="SLSQP", bounds=bounds, constraints=[constraint],
                      options={"maxiter": 500, "ftol": 1e-12})  # fmt: skip
    if not result.success:
        raise ModelError(f"the blend of the ensemble's members did not converge: {result.message}")
    return result.x[2:] / result.x[2:].sum(), float(result.x[0]), float(result.x[1])


def _forest_log_odds(forest_text: str, data: Cleaned) -> np.ndarray:
    import lightgbm as lgb

    booster = lgb.Booster(model_str=forest_text)
    return np.asarray(booster.predict(data.values, raw_score=True), dtype=np.float64)


def check_model_destination(out_dir: Path) -> Path:
    """Return the absolute model folder to write; refuse one whose contents are not a model.

    Training replaces the folder as a whole, so it must be absent, empty, or a model folder
    (it holds a manifest); and never the current folder or one that contains it.
    """
    target = out_dir.expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {out_dir} is a file; give a folder for the model")
    if target == Path.cwd().resolve() or target in Path.cwd().resolve().parents:
        raise UsageError(
            f"--out {out_dir} is the current folder or contains it; give a folder of its own"
        )
    if target.is_dir() and any(target.iterdir()) and not (target / artifacts.MANIFEST).is_file():
        raise UsageError(
            f"--out {out_dir} is not empty and is not a model folder; "
            "give a new or empty folder (or an existing model folder to replace)"
        )
    return target
