"""`accunode model recalibrate` and the recalibration in `model evaluate`, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accunode_cli.main import app
from accunode_cli.scoring import load_model

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_recalibrate_prints_before_and_after_and_is_used_by_the_other_commands(
    tmp_path: Path,
) -> None:
    data = str(SAMPLES / "annual_training.csv.gz")
    out = tmp_path / "recal"
    result = runner.invoke(app, ["model", "recalibrate", "--kind", "annual", "--data", data,
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in ("recalibrated from", "log loss", "mean PD before", "observed rate"):
        assert text in result.stdout
    code, info = _json("model", "info", "--model-dir", str(out))
    assert code == 0 and info["parent"]["version"] == load_model("annual").version
    assert info["recalibration"]["sample"]["rows"] == 14_400
    # predict scores with it; contributions still add up to the score
    code, scored = _json("predict", "annual", "--model-dir", str(out),
                         "--long-term-debt-to-total-capital", "40", "--total-debt-to-ebitda", "3",
                         "--net-income-margin", "5", "--ebit-to-interest-expense", "4",
                         "--return-on-assets", "4")  # fmt: skip
    assert code == 0, scored
    assert scored["model_version"] == info["model_version"]
    total = scored["base_log_odds"] + sum(scored["contributions"].values())
    assert abs(total - scored["log_odds"]) < 1e-9
    # evaluate shows the recalibration's before/after and draws the reliability diagram
    code, report = _json("model", "evaluate", "--kind", "annual", "--data", data,
                         "--model-dir", str(out), "--report", str(tmp_path / "rep"))  # fmt: skip
    assert code == 0
    recal = report["recalibration"]
    assert recal["after"]["log_loss"] < recal["before"]["log_loss"]
    assert abs(recal["after"]["auc"] - recal["before"]["auc"]) < 1e-9
    assert (tmp_path / "rep" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert saved["recalibration"]["parent_version"] == info["parent"]["version"]


def test_central_tendency_on_the_sample_file(tmp_path: Path) -> None:
    code, done = _json("model", "recalibrate", "--kind", "annual",
                       "--data", str(SAMPLES / "annual_companies.csv"),
                       "--central-tendency", "0.03", "--out", str(tmp_path / "ct"))  # fmt: skip
    assert code == 0, done
    assert done["method"] == "central_tendency" and done["slope"] == 1.0
    assert abs(done["after"]["mean_pd"] - 0.03) < 0.001
    assert done["before"]["mean_pd"] < 0.026  # 2.53 %: moved up by more than 4x the tolerance


def test_unusable_samples_exit_2_with_one_line(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.csv"
    lines = ["long_term_debt_to_total_capital,total_debt_to_ebitda,net_income_margin,"
             "ebit_to_interest_expense,return_on_assets,default"]  # fmt: skip
    lines += [f"{30 + i % 40},{1 + i % 5},{i % 12},{2 + i % 9},{i % 8},{int(i % 50 == 0)}"
              for i in range(400)]  # fmt: skip
    tiny.write_text("\n".join(lines) + "\n")
    base = ["model", "recalibrate", "--kind", "annual", "--out", str(tmp_path / "m")]
    result = runner.invoke(app, [*base, "--data", str(tiny)])
    assert result.exit_code == 2
    assert "8 defaults among 400 rows" in result.stderr and "at least 10" in result.stderr
    unlabelled = runner.invoke(app, [*base, "--data", str(SAMPLES / "annual_companies.csv")])
    assert unlabelled.exit_code == 2 and "--central-tendency" in unlabelled.stderr
    bad_rate = runner.invoke(app, [*base, "--data", str(tiny), "--central-tendency", "3"])
    assert bad_rate.exit_code == 2 and "between 0 and 1" in bad_rate.stderr
    for outcome in (result, unlabelled, bad_rate):
        assert "Traceback" not in outcome.output
    assert not (tmp_path / "m").exists()


def test_the_server_loads_a_recalibrated_model_from_its_model_dir_setting(tmp_path: Path) -> None:
    import shutil

    from accunode_cli.config import Settings
    from accunode_cli.scoring.artifacts import shipped_model_dir
    from accunode_cli.server.state import _load_models

    out = tmp_path / "models" / "annual"
    code, done = _json("model", "recalibrate", "--kind", "annual",
                       "--data", str(SAMPLES / "annual_companies.csv"),
                       "--central-tendency", "0.03", "--out", str(out))  # fmt: skip
    assert code == 0
    shutil.copytree(shipped_model_dir("quarterly"), tmp_path / "models" / "quarterly")
    models, errors = _load_models(Settings(model_dir=tmp_path / "models"))
    assert errors == {}
    assert models["annual"].version == done["model_version"] != load_model("annual").version
