"""Training and evaluation: the acceptance figures on a held-out later-years test set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from accunode_cli.errors import InputError
from accunode_cli.scoring import load_model
from accunode_cli.scoring.evaluation import evaluate_model, metrics_for
from accunode_cli.scoring.generator import band_default_rates, generate
from accunode_cli.scoring.training import split_rows, train_model


def _check_acceptance(metrics: dict) -> None:  # type: ignore[type-arg]
    model, best = metrics["model"], metrics["true_pd"]
    assert model["auc"] >= 0.97 * best["auc"]
    assert abs(model["mean_pd"] / model["observed_rate"] - 1) <= 0.15
    for row in model["calibration"]:
        if row["defaults"] >= 30:
            ratio = row["mean_pd"] / row["observed_rate"]
            assert 1 / 1.5 <= ratio <= 1.5, row


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_small_models_meet_the_acceptance_on_their_test_years(
    kind: str, small_models: dict[str, Path]
) -> None:
    manifest = json.loads((small_models[kind] / "manifest.json").read_text())
    assert manifest["training_data"]["split"].startswith("train 1990-")
    _check_acceptance(manifest["metrics"]["test"])


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_shipped_models_meet_the_acceptance_on_fresh_later_years(kind: str) -> None:
    table = generate(kind, firms=3000 if kind == "annual" else 1500, seed=2024)
    arrow = table.to_arrow()
    later = np.flatnonzero(arrow.column("year").to_numpy() >= 2008)
    _check_acceptance(metrics_for(load_model(kind), arrow, later))


def test_split_is_out_of_time_and_by_firm(small_tables: dict[str, object]) -> None:
    table = small_tables["annual"]
    split = split_rows(table, seed=3)
    years = table.column("year").to_numpy()  # type: ignore[attr-defined]
    firms = table.column("firm_id").to_numpy()  # type: ignore[attr-defined]
    assert years[split.train].max() < years[split.valid].min()
    assert years[split.train].max() < years[split.test].min()
    assert not set(firms[split.valid]) & set(firms[split.test])


def test_any_table_with_ratios_and_default_trains(tmp_path: Path) -> None:
    # a bank's own history: only the ratio columns and the outcome, text cells included
    data = generate("annual", firms=1500, seed=5).columns
    names = ["long_term_debt_to_total_capital", "total_debt_to_ebitda", "net_income_margin",
             "ebit_to_interest_expense", "return_on_assets"]  # fmt: skip
    columns = {name: data[name] for name in names}
    margin = columns["net_income_margin"]
    text = np.where(np.isnan(margin), "NM", np.char.add(margin.round(2).astype(str), "%"))
    columns["net_income_margin"] = text
    table = pa.table({**columns, "default": data["default"]})
    manifest = train_model("annual", table, tmp_path / "bank", seed=1)
    assert manifest["training_data"]["split"].startswith("seeded 60/20/20")
    model = load_model("annual", tmp_path / "bank")
    assert 0 < model.score_one({"net_income_margin": "8.5%"}).probability < 1
    assert model.score_one({}).error == "no ratio values"  # no ratio at all: no company


def test_training_refuses_unusable_tables(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="return_on_assets"):
        train_model("annual", pa.table({"default": [0, 1]}), tmp_path / "x")
    data = generate("annual", firms=200, seed=5).columns
    ratios = {k: data[k] for k in data if k not in ("default", "true_pd")}
    bad = pa.table({**ratios, "default": np.where(np.arange(data["default"].size) == 4, 2, 0)})
    with pytest.raises(InputError, match="data row 5"):
        train_model("annual", bad, tmp_path / "x")
    few = pa.table({**ratios, "default": np.zeros(data["default"].size, dtype=int)})
    with pytest.raises(InputError, match="defaults"):
        train_model("annual", few, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_evaluation_writes_report_and_plots(small_models: dict[str, Path], tmp_path: Path) -> None:
    table = generate("annual", firms=800, seed=9).to_arrow()
    metrics = evaluate_model("annual", table, tmp_path / "report", model_dir=small_models["annual"])
    for key in ("auc", "accuracy_ratio", "ks", "brier", "log_loss", "calibration"):
        assert key in metrics["model"] and key in metrics["true_pd"]
    assert len(metrics["model"]["calibration"]) == 10
    for name in ("report.json", "roc.png", "calibration.png"):
        assert (tmp_path / "report" / name).stat().st_size > 1000
    assert (tmp_path / "report" / "roc.png").read_bytes()[:4] == b"\x89PNG"


def test_generator_bands_resemble_the_real_training_set() -> None:
    table = generate("annual", firms=3000, seed=1).to_arrow()
    for ratio, rows in band_default_rates("annual", table).items():
        generated = [row["generated"] for row in rows if row["band"] != "missing"]
        real = [row["reference"] for row in rows if row["band"] != "missing"]
        # the same direction of risk across the bands as the real data, end to end
        assert (generated[-1] - generated[0]) * (real[-1] - real[0]) > 0, ratio


def test_generation_is_deterministic() -> None:
    one, two = generate("quarterly", firms=100, seed=4), generate("quarterly", firms=100, seed=4)
    for key, values in one.columns.items():
        assert np.array_equal(values, two.columns[key], equal_nan=values.dtype.kind == "f"), key


def test_inference_imports_neither_sklearn_nor_pandas() -> None:
    code = (
        "import sys; from accunode_cli.scoring import load_model;"
        "m = load_model('quarterly'); m.score_one({'sga_margin': '20%'});"
        "heavy = ('sklearn', 'pandas', 'scipy', 'lightgbm', 'matplotlib');"
        "bad = [n for n in heavy if n in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
