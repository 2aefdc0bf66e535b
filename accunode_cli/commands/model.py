"""`accunode model info|train|evaluate|recalibrate|generate`: inspect, fit, measure, refit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from accunode_cli import console
from accunode_cli.commands.extras import require_training_extra
from accunode_cli.commands.options import JsonOption, KindChoice, ModelDirOption, apply_json

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="Inspect, train and evaluate the PD models (a bank can fit them to its own defaults).",
    rich_markup_mode="rich",
)

KindOption = Annotated[KindChoice, typer.Option("--kind", help="Model kind.")]
DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Table (CSV, Parquet, Excel, JSON lines) with the ratio columns and an outcome "
        "column ('default', 'defaulted' or 'bankrupt': 1/0, Y/N, yes/no, true/false); "
        "'year' (or 'reporting_year', 'fiscal_year') and 'firm_id' are used when present.",
        show_default=False,
    ),
]
TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Name of the outcome column when it is not 'default', 'defaulted' or 'bankrupt'.",
        show_default=False,
    ),
]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Random seed: same data and seed, same bytes.")
]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


_MEASURES = (
    ("rows", lambda m: f"{m['rows']:,}"),
    ("defaults", lambda m: f"{m['defaults']:,}"),
    ("AUC", lambda m: f"{m['auc']:.4f}"),
    ("accuracy ratio", lambda m: f"{m['accuracy_ratio']:.3f}"),
    ("KS", lambda m: f"{m['ks']:.3f}"),
    ("Brier", lambda m: f"{m['brier']:.5f}"),
    ("log loss", lambda m: f"{m['log_loss']:.4f}"),
    ("mean PD", lambda m: _percent(m["mean_pd"])),
    ("observed rate", lambda m: _percent(m["observed_rate"])),
)


def _print_metrics(title: str | None, metrics: dict[str, dict[str, Any]]) -> None:
    """Print one column per (part, scorer): the model, and the generator's true PD if known."""
    header, columns = ["measure"], []
    for part, groups in metrics.items():
        for who, values in groups.items():
            header.append(f"{part}: {'model' if who == 'model' else 'true PD'}")
            columns.append(values)
    rows = [[label, *(fmt(values) for values in columns)] for label, fmt in _MEASURES]
    console.print_table(title, header, rows, right_align=range(1, len(header)))


def _show_info(kind: str, model: Any) -> dict[str, Any]:
    manifest = model.manifest
    info = {
        "kind": kind, "model_version": model.version, "created": manifest["created"],
        "members": manifest["members"], "ratios": manifest["ratios"],
        "base_probability": 1 / (1 + 2.718281828459045 ** -model.base_log_odds),
        "training_data": manifest["training_data"], "metrics": manifest["metrics"],
        "files": manifest["files"],
    }  # fmt: skip
    if "parent" in manifest:
        info["parent"], info["recalibration"] = manifest["parent"], manifest["recalibration"]
    if not console.state.json_mode:
        data = manifest["training_data"]
        console.print_lines([
            f"[bold]{kind}[/bold] model [cyan]{model.version}[/cyan] (created {info['created']})",
            f"  members: {', '.join(info['members'])}; median-company PD "
            f"{_percent(info['base_probability'])}",
            f"  trained on {data['rows']:,} rows, {data['defaults']:,} defaults; {data['split']}",
        ])  # fmt: skip
        if "parent" in manifest:
            step = manifest["recalibration"]
            console.print_lines([
                f"  recalibrated from {manifest['parent']['version']} ({step['method']}: "
                f"{step['intercept']:+.4f} + {step['slope']:.4f} x log-odds) on "
                f"{step['sample']['scored_rows']:,} rows, sample sha256 "
                f"{step['sample']['sha256'][:12]}",
            ])  # fmt: skip
        if manifest["metrics"]:
            _print_metrics(None, manifest["metrics"])
    return info


@app.command("info", epilog="Example:\n\n  accunode model info --json")
@console.reports_errors
def info(
    kind: Annotated[
        KindChoice | None, typer.Option("--kind", help="Show one kind only (default: both).")
    ] = None,
    model_dir: ModelDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show the model's version, training data and validation and test figures."""
    from accunode_cli.scoring import KINDS, load_model

    apply_json(json_output)
    if model_dir is not None and kind is None:
        from accunode_cli.scoring.artifacts import read_manifest

        kind = KindChoice(read_manifest(model_dir)["kind"])
    kinds = [kind.value] if kind else list(KINDS)
    shown = {k: _show_info(k, load_model(k, model_dir)) for k in kinds}
    if console.state.json_mode:
        console.print_json(shown[kinds[0]] if len(kinds) == 1 else shown)


@app.command(
    "train",
    epilog="Example:\n\n  accunode model train --kind annual --data history.parquet --out my-model",
)
@console.reports_errors
def train(
    kind: KindOption,
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the model into.")],
    seed: SeedOption = 7,
    target: TargetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Train a model from a labelled table; score with it via --model-dir."""
    from accunode_cli.scoring.training import train_model
    from accunode_cli.tabular.labelled import read_labelled_table

    apply_json(json_output)
    require_training_extra("model train")
    table = read_labelled_table(str(data), kind.value, target=target)
    if not console.state.json_mode:
        console.print_lines([f"training the {kind.value} model on {table.num_rows:,} rows..."],
                            stderr=True)  # fmt: skip
    manifest = train_model(kind.value, table, out, seed=seed)
    if console.state.json_mode:
        console.print_json({"model_dir": str(out), "model_version": manifest["version"],
                            "training_data": manifest["training_data"],
                            "metrics": manifest["metrics"]})  # fmt: skip
        return
    console.print_lines([f"wrote [bold]{out}[/bold]: model {manifest['version']}",
                         f"  {manifest['training_data']['split']}"])  # fmt: skip
    _print_metrics(None, manifest["metrics"])
    console.print_lines([f"score with it: accunode bulk-score FILE --model-dir {out}"])


@app.command(
    "evaluate",
    epilog="Example:\n\n  accunode model evaluate --kind annual --data test.parquet --report out/",
)
@console.reports_errors
def evaluate(
    kind: KindOption,
    data: DataOption,
    report: Annotated[
        Path,
        typer.Option(
            "--report", help="Folder for report.json, roc.png, calibration.png, reliability.png."
        ),
    ],
    model_dir: ModelDirOption = None,
    target: TargetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Measure a model on labelled data: AUC, AR, KS, Brier, log loss, calibration by decile."""
    from accunode_cli.scoring.evaluation import evaluate_model
    from accunode_cli.tabular.labelled import read_labelled_table

    apply_json(json_output)
    require_training_extra("model evaluate")
    table = read_labelled_table(str(data), kind.value, target=target)
    metrics = evaluate_model(kind.value, table, report, model_dir=model_dir)
    if console.state.json_mode:
        console.print_json(metrics)
        return
    groups: dict[str, Any] = {k: metrics[k] for k in ("model", "true_pd") if k in metrics}
    _print_metrics(f"{kind.value} model {metrics['model_version']} on {data}", {"data": groups})
    rows = [[r["decile"], f"{r['rows']:,}", f"{r['defaults']:,}", _percent(r["mean_pd"]),
             _percent(r["observed_rate"])] for r in metrics["model"]["calibration"]]  # fmt: skip
    console.print_table("Calibration by PD decile", ["decile", "rows", "defaults", "mean PD",
                        "observed"], rows, right_align=range(0, 5))  # fmt: skip
    if "recalibration" in metrics:
        from accunode_cli.commands.render_recalibration import print_before_after

        recal = metrics["recalibration"]
        print_before_after(
            f"Recalibration from {recal['parent_version']} ({recal['method']}), on this data",
            recal["before"], recal["after"],
        )  # fmt: skip
    console.print_lines([f"wrote {path}" for path in metrics["files"]])


@app.command(
    "recalibrate",
    epilog="Examples:\n\n  accunode model recalibrate --kind annual --data book.csv --out my-model"
    "\n\n  accunode model recalibrate --kind annual --data book.csv --central-tendency 0.02 "
    "--out my-model",
)
@console.reports_errors
def recalibrate(
    kind: KindOption,
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the recalibrated model.")],
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model-dir",
            help="The model to recalibrate (default: the shipped one).",
            show_default=False,
        ),
    ] = None,
    central_tendency: Annotated[
        float | None,
        typer.Option(
            "--central-tendency",
            help="Shift to this long-run default rate (0.03 = 3 %) instead of fitting outcomes; "
            "the data needs no outcome column.",
            show_default=False,
        ),
    ] = None,
    target: TargetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fit the model's PDs to a portfolio (intercept and slope of its log-odds); ranking kept."""
    from accunode_cli.commands.render_recalibration import print_before_after
    from accunode_cli.scoring.recalibration import recalibrate_model
    from accunode_cli.tabular.labelled import read_labelled_table

    apply_json(json_output)
    table = read_labelled_table(str(data), kind.value, target=target, require_target=False)
    manifest = recalibrate_model(
        kind.value, table, out, model_dir=model_dir, central_tendency=central_tendency,
        sample_name=data.name,
    )  # fmt: skip
    step, result = manifest["recalibration"], manifest["result"]
    if console.state.json_mode:
        console.print_json({
            "model_dir": str(out), "model_version": manifest["version"],
            "parent_version": manifest["parent"]["version"], "method": step["method"],
            "intercept": step["intercept"], "slope": step["slope"], "sample": step["sample"],
            "before": result["before"], "after": result["after"],
        })  # fmt: skip
        return
    console.print_lines([
        f"wrote [bold]{out}[/bold]: model {manifest['version']}, recalibrated from "
        f"{manifest['parent']['version']}",
        f"  {step['method'].replace('_', ' ')}: log-odds -> {step['intercept']:+.4f} + "
        f"{step['slope']:.4f} x log-odds, on {step['sample']['scored_rows']:,} rows of {data}",
    ])  # fmt: skip
    print_before_after("Before and after", result["before"], result["after"])
    console.print_lines([f"score with it: accunode bulk-score FILE --model-dir {out}"])


@app.command(
    "generate",
    epilog="Example:\n\n  accunode model generate --kind annual --out annual.parquet --firms 10000",
)
@console.reports_errors
def generate(
    kind: KindOption,
    out: Annotated[Path, typer.Option("--out", help="File to write (.parquet, .csv or .jsonl).")],
    firms: Annotated[
        int, typer.Option("--firms", min=10, help="Firms in the panel per period.")
    ] = 10_000,
    seed: SeedOption = 7,
    json_output: JsonOption = False,
) -> None:
    """Write the calibrated synthetic training data the shipped models are trained on."""
    from accunode_cli.scoring.generator import generate as generate_data
    from accunode_cli.tabular.labelled import write_table

    apply_json(json_output)
    require_training_extra("model generate")
    table = generate_data(kind.value, firms=firms, seed=seed).to_arrow()
    write_table(table, str(out))
    defaults = int(table.column("default").to_numpy().sum())
    summary = {"path": str(out), "rows": table.num_rows, "defaults": defaults}
    if console.state.json_mode:
        console.print_json(summary)
    else:
        console.print_lines(
            [f"wrote {out}: {summary['rows']:,} rows, {summary['defaults']:,} defaults"]
        )
