"""`accunode model info|train|evaluate|generate` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accunode_cli.main import app

runner = CliRunner()


def _json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_info_shows_both_shipped_models() -> None:
    code, document = _json("model", "info")
    assert code == 0
    assert set(document) == {"annual", "quarterly"}
    assert document["annual"]["model_version"].startswith("annual-")
    assert document["quarterly"]["members"] == ["scorecard", "lightgbm", "spline"]
    human = runner.invoke(app, ["model", "info", "--kind", "annual"])
    assert human.exit_code == 0 and "accuracy ratio" in human.stdout


def test_generate_train_evaluate_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "history.csv"
    code, generated = _json("model", "generate", "--kind", "annual", "--out", str(data),
                            "--firms", "1500", "--seed", "3")  # fmt: skip
    assert code == 0 and generated["rows"] == 1500 * 36
    code, trained = _json("model", "train", "--kind", "annual", "--data", str(data),
                          "--out", str(tmp_path / "mine"), "--seed", "2")  # fmt: skip
    assert code == 0
    assert trained["metrics"]["test"]["model"]["auc"] > 0.8
    code, info = _json("model", "info", "--model-dir", str(tmp_path / "mine"))
    assert code == 0 and info["model_version"] == trained["model_version"]
    code, report = _json("model", "evaluate", "--kind", "annual", "--data", str(data),
                         "--report", str(tmp_path / "report"),
                         "--model-dir", str(tmp_path / "mine"))  # fmt: skip
    assert code == 0 and report["model"]["rows"] == 1500 * 36
    assert (tmp_path / "report" / "calibration.png").exists()


def test_training_data_problems_exit_2_with_one_line(tmp_path: Path) -> None:
    no_default = tmp_path / "x.csv"
    no_default.write_text(
        "long_term_debt_to_total_capital,total_debt_to_ebitda,net_income_margin,"
        "ebit_to_interest_expense,return_on_assets\n1,2,3,4,5\n"
    )
    result = runner.invoke(app, ["model", "train", "--kind", "annual", "--data", str(no_default),
                                 "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 2
    assert "no 'default' column" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "m").exists()
    args = ["--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m")]
    missing = runner.invoke(app, ["model", "train", "--kind", "annual", *args])
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_a_damaged_model_folder_fails_with_exit_1(tmp_path: Path) -> None:
    import shutil

    from accunode_cli.scoring.artifacts import shipped_model_dir

    copy = tmp_path / "annual"
    shutil.copytree(shipped_model_dir("annual"), copy)
    (copy / "scorecard.json").write_text("{}")
    code, document = _json("model", "info", "--model-dir", str(copy))
    assert code == 1
    assert document["error"]["code"] == "artifact_integrity"
    assert "scorecard.json" in document["error"]["message"]


def test_train_refuses_a_folder_that_is_not_a_model_and_never_deletes_outside_it(
    tmp_path: Path, monkeypatch
) -> None:
    data = tmp_path / "history.csv"
    assert _json("model", "generate", "--kind", "annual", "--out", str(data),
                 "--firms", "400", "--seed", "3")[0] == 0  # fmt: skip
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("months of work")
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("keep me")
    monkeypatch.chdir(work)
    for out in (str(mine), ".", str(tmp_path), str(work / "notes.txt")):
        result = runner.invoke(app, ["model", "train", "--kind", "annual", "--data", str(data),
                                     "--out", out])  # fmt: skip
        assert result.exit_code == 2, (out, result.output)
        assert "--out" in result.stderr and "Traceback" not in result.output
    assert (mine / "thesis.docx").read_text() == "months of work"
    assert (work / "notes.txt").read_text() == "keep me"
    # a model folder is replaced whole, and its neighbours stay
    import shutil

    from accunode_cli.scoring.artifacts import shipped_model_dir

    model = work / "model"
    shutil.copytree(shipped_model_dir("annual"), model)
    code, trained = _json("model", "train", "--kind", "annual", "--data", str(data),
                          "--out", "model")  # fmt: skip
    assert code == 0, trained
    assert sorted(p.name for p in work.iterdir()) == ["model", "notes.txt"]
    assert json.loads((model / "manifest.json").read_text())["version"] == trained["model_version"]
