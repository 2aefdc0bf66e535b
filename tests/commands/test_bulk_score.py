"""`accunode bulk-score` through the CLI: summary, --json, stdin/stdout, exit codes, agreement."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from typer.testing import CliRunner

from accunode_cli.main import app
from accunode_cli.scoring import load_model, ratio_names

HEADER = (
    "company_symbol,long_term_debt_to_total_capital,total_debt_to_ebitda,net_income_margin,"
    "ebit_to_interest_expense,return_on_assets\n"
)


def test_sample_file_summary_for_humans(
    runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """The demo command writes the output and prints the summary tables."""
    target = tmp_path / "annual_scored.csv"
    result = runner.invoke(
        app, ["bulk-score", str(sample_data / "annual_companies.csv"), "-o", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    assert "Scored 300 of 300 rows" in result.stdout
    for word in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "Missing", "Not meaningful", "rejected"):
        assert word in result.stdout
    assert pcsv.read_csv(target).num_rows == 300


def test_json_summary(runner: CliRunner, sample_data: Path, tmp_path: Path) -> None:
    """--json prints one document: counts per level add up, shares, mean and median PD."""
    target = tmp_path / "q.parquet"
    result = runner.invoke(
        app,
        ["bulk-score", str(sample_data / "quarterly_companies.csv"), "-o", str(target), "--json"],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["kind"] == "quarterly"
    assert summary["rows"] == 300 and summary["scored"] + summary["rejected"] == 300
    assert sum(v["count"] for v in summary["risk_levels"].values()) == summary["scored"]
    assert abs(sum(v["share"] for v in summary["risk_levels"].values()) - 1) < 1e-9
    assert 0 < summary["median_probability"] < 1
    assert set(summary["missing_by_ratio"]) == set(ratio_names("quarterly"))
    assert summary["output_format"] == "parquet"


def test_stdin_to_stdout(runner: CliRunner, sample_data: Path) -> None:
    """'-' reads CSV from stdin; no -o writes CSV to stdout and the summary to stderr."""
    text = (sample_data / "annual_companies.csv").read_bytes()
    result = runner.invoke(app, ["bulk-score", "-", "--kind", "annual"], input=text)
    assert result.exit_code == 0, result.stderr
    table = pcsv.read_csv(pa.BufferReader(result.stdout_bytes))
    assert table.num_rows == 300
    assert "Scored 300 of 300 rows" in result.stderr
    assert table.schema.names[-6:][0] == "probability"


def test_json_with_stdout_output_is_refused(runner: CliRunner, sample_data: Path) -> None:
    """--json needs -o: the scores and the summary cannot share stdout."""
    result = runner.invoke(app, ["bulk-score", str(sample_data / "annual_companies.csv"), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "bad_usage"


def test_explain_and_agreement_with_predict(
    runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """bulk-score, predict and the library give the same probability for the same row."""
    target = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        ["bulk-score", str(sample_data / "annual_companies.csv"), "-o", str(target), "--explain"],
    )
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    model = load_model("annual")
    for row in rows[:25]:
        options = []
        for name in ratio_names("annual"):
            if row[name] != "":
                options += ["--" + name.replace("_", "-"), row[name]]
        predicted = json.loads(runner.invoke(app, ["predict", "annual", *options, "--json"]).stdout)
        library = model.score_one({n: (row[n] or None) for n in ratio_names("annual")})
        assert row["probability"] == predicted["probability"] == library.probability
        for name in ratio_names("annual"):
            assert row[f"contribution_{name}"] == predicted["contributions"][name]


def test_rejected_rows_exit_0_and_all_rejected_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    """Some rows scored: exit 0. No row scorable: exit 1, output and errors file still written."""
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "A,1,2,3,4,5\nB,1,2,zz,4,5\n")
    result = runner.invoke(app, ["bulk-score", str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 0
    assert "Rows rejected: 1" in result.stdout
    source.write_text(HEADER + "B,1,2,zz,4,5\n")
    result = runner.invoke(app, ["bulk-score", str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert "no row could be scored" in result.stderr
    assert (tmp_path / "o.errors.csv").read_text().count("\n") == 2


def test_unusable_input_exit_2_json_envelope(runner: CliRunner, tmp_path: Path) -> None:
    """A missing file is exit 2 with the envelope on stdout in JSON mode."""
    result = runner.invoke(
        app, ["--json", "bulk-score", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "unreadable_file"
    assert list(tmp_path.iterdir()) == []


def test_real_script_has_no_traceback(accunode_script: str, tmp_path: Path) -> None:
    """The installed script reports bad input in one line with exit 2, and pipes stdin."""
    (tmp_path / "bin.csv").write_bytes(b"\x00\xff" * 500)
    done = subprocess.run(
        [accunode_script, "bulk-score", str(tmp_path / "bin.csv"), "-o", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert not (tmp_path / "o.csv").exists()
    piped = subprocess.run(
        [accunode_script, "bulk-score", "-"],
        input=(HEADER + "A,35,2.1,8.5,9.2,6.1\n\nB,NM,,-3,1.2,0.5\n").encode(),
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    lines = piped.stdout.decode().splitlines()
    assert len(lines) == 3 and lines[1].startswith('"A"') and lines[2].startswith('"B"')
    usage = subprocess.run(
        [accunode_script, "bulk-score", "x.csv", "--batch-size", "0", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2
    assert json.loads(usage.stdout)["error"]["code"] == "bad_usage"


UNUSABLE = {
    "directory": lambda d: (d / "in.csv").mkdir(),
    "empty": lambda d: (d / "in.csv").write_bytes(b""),
    "binary": lambda d: (d / "in.csv").write_bytes(bytes(range(256)) * 8),
    "truncated": lambda d: (d / "in.csv").write_text(HEADER + "A,1,2,3,4,5\nB,1,2"),
    "wrong_columns": lambda d: (d / "in.csv").write_text("a,b\n1,2\n"),
    "duplicated": lambda d: (d / "in.csv").write_text("a,a\n1,2\n"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_unusable_input_through_the_cli(runner: CliRunner, tmp_path: Path, case: str) -> None:
    """Exit 2, one line on stderr, nothing on stdout, no output file left behind."""
    source_dir = tmp_path / "in"
    source_dir.mkdir()
    UNUSABLE[case](source_dir)
    out_dir = tmp_path / "out"
    result = runner.invoke(
        app, ["bulk-score", str(source_dir / "in.csv"), "-o", str(out_dir / "s.csv")]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_unwritable_output_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    """An output under a regular file cannot be created: exit 2 before reading on."""
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "A,1,2,3,4,5\n")
    (tmp_path / "file").write_text("x")
    result = runner.invoke(app, ["bulk-score", str(source), "-o", str(tmp_path / "file" / "o.csv")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


@pytest.mark.parametrize(
    "options",
    [
        ["--errors", "rejected.csv"],
        ["--format", "csv"],
        ["--explain", "--horizon", "5"],
    ],
)
def test_local_only_options_are_refused_with_remote_not_ignored(
    options: list[str], runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """Before any request: an option the server's job would not apply is named, exit 2."""
    result = runner.invoke(
        app,
        [
            "bulk-score",
            str(sample_data / "annual_companies.csv"),
            "--remote",
            "--api-url",
            "http://127.0.0.1:9",  # nothing listens: a request would fail with another error
            "-o",
            str(tmp_path / "out.csv"),
            *options,
        ],
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "only apply when scoring locally" in lines[0]
    for option in options:
        if option.startswith("--"):
            assert option in lines[0]
