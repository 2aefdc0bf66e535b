"""Bring every file that quotes the shipped models in step with them (`make models` runs it).

    python scripts/refresh_docs.py           rewrite what is stale
    python scripts/refresh_docs.py --check   only say what is stale (exit 1), change nothing

What it regenerates:

* tests/scoring/golden_sample_data.json: the probabilities the shipped models give the
  sample companies (the golden test pins them);
* docs/models.md: the parts between `<!-- refresh: NAME -->` and `<!-- /refresh -->` markers
  (version and training table, performance and calibration tables, reference companies), from
  the shipped manifests and the scoring engine;
* README.md and docs/*.md: each fenced block right after a `<!-- refresh: run -->` line is run
  (every `$ command` in it, from the repository root) and its printed output replaced; blocks
  marked `<!-- refresh: run-slow -->` (training) too, unless `--fast`;
* every other model version quoted in README.md and docs/*.md (`annual-YYYY.MM.DD-hash`) is set
  to the shipped model's, except inside `run-slow` blocks (a model the reader trains).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "scoring" / "golden_sample_data.json"
MODELS = ROOT / "accunode_cli" / "scoring" / "models"
KINDS = ("annual", "quarterly")
VERSION = re.compile(r"\b(annual|quarterly)-\d{4}\.\d{2}\.\d{2}-[0-9a-f]{8}\b")
FIX = "python scripts/refresh_docs.py"
# Timings differ on every run: compared without them.
TIMINGS = [
    (re.compile(r"in [0-9.]+ s \([0-9,]+ rows/s\)"), "in <s> s (<n> rows/s)"),
    (re.compile(r'"(seconds|rows_per_second)": [0-9.]+'), r'"\1": <n>'),
]


def manifest(kind: str) -> dict:
    """Return the shipped model's manifest."""
    return json.loads((MODELS / kind / "manifest.json").read_text())


def ensemble(kind: str) -> dict:
    return json.loads((MODELS / kind / "ensemble.json").read_text())


# -- the golden file ---------------------------------------------------------------------------


def golden_text() -> str:
    """Return the golden file as the shipped models make it."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from accunode_cli.scoring import load_model

    data = {}
    for kind in KINDS:
        model = load_model(kind)
        text = pcsv.ConvertOptions(column_types={name: pa.string() for name in model.ratio_names})
        table = pcsv.read_csv(ROOT / "sample_data" / f"{kind}_companies.csv", convert_options=text)
        probabilities = model.score_record_batch(table).probability.tolist()
        data[kind] = {
            "company_symbol": table.column("company_symbol").to_pylist(),
            "model_version": model.version,
            "probability": [None if math.isnan(p) else p for p in probabilities],
        }
    return json.dumps(data, indent=1, sort_keys=True)


# -- docs/models.md sections -------------------------------------------------------------------


def _pct(value: float, digits: int = 2) -> str:
    return f"{100 * value:.{digits}f} %"


def _num(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace("-", "−")


def section_summary() -> str:
    names = {
        "scorecard": "WoE scorecard",
        "lightgbm": "LightGBM",
        "spline": "monotone spline model",
    }
    cells: dict[str, list[str]] = {key: [] for key in ("v", "m", "p", "b", "t")}
    for kind in KINDS:
        info, blend = manifest(kind), ensemble(kind)
        weights = blend["weights"]
        cells["v"].append(f"`{info['version']}`")
        cells["m"].append(", ".join(
            f"{names[m]} {round(100 * weights[m])} %" for m in info["members"]
        ))  # fmt: skip
        calibration = blend["calibration"]
        cells["p"].append(f"{_num(calibration['intercept'], 3)}, {_num(calibration['slope'], 3)}")
        cells["b"].append(_pct(1 / (1 + math.exp(-info["base_log_odds"]))))
        data = info["training_data"]
        cells["t"].append(f"{data['rows']:,} / {data['defaults']:,}")
    rows = [
        ("version", "v"), ("members", "m"), ("Platt calibration (intercept, slope)", "p"),
        ("median-company PD (the base of the explanations)", "b"),
        ("training rows / defaults", "t"),
    ]  # fmt: skip
    lines = ["| | annual | quarterly |", "|---|---|---|"]
    lines += [f"| {label} | {' | '.join(cells[key])} |" for label, key in rows]
    return "\n".join(lines)


def _performance(kind: str) -> str:
    lines = [
        "| part | scores | rows | defaults | AUC | AR | KS | Brier | log loss | mean PD | "
        "observed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for part in ("validation", "test"):
        for who, label in (("model", "model"), ("true_pd", "true PD")):
            m = manifest(kind)["metrics"][part][who]
            lines.append(
                f"| {part} | {label} | {m['rows']:,} | {m['defaults']:,} | {m['auc']:.4f} | "
                f"{m['accuracy_ratio']:.3f} | {m['ks']:.3f} | {m['brier']:.5f} | "
                f"{m['log_loss']:.4f} | {_pct(m['mean_pd'])} | {_pct(m['observed_rate'])} |"
            )
    return "\n".join(lines)


def section_calibration() -> str:
    lines = [
        "| decile | annual: rows | defaults | mean PD | observed | quarterly: rows | defaults | "
        "mean PD | observed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    tables = [manifest(kind)["metrics"]["test"]["model"]["calibration"] for kind in KINDS]
    for annual, quarterly in zip(*tables, strict=True):
        cells = [str(annual["decile"])]
        for row in (annual, quarterly):
            cells += [f"{row['rows']:,}", f"{row['defaults']:,}", _pct(row["mean_pd"], 3),
                      _pct(row["observed_rate"], 3)]  # fmt: skip
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def section_acceptance() -> str:
    shares, gaps = [], []
    for kind in KINDS:
        test = manifest(kind)["metrics"]["test"]
        shares.append(f"{100 * test['model']['auc'] / test['true_pd']['auc']:.1f} %")
        worst = max(
            (max(r["mean_pd"], r["observed_rate"]) / min(r["mean_pd"], r["observed_rate"]), r)
            for r in test["model"]["calibration"]
            if r["defaults"] >= 30
        )
        gaps.append(f"{kind} decile {worst[1]['decile']}, {worst[0]:.2f}x")
    drift = max(
        abs(manifest(k)["metrics"]["test"]["model"]["mean_pd"]
            / manifest(k)["metrics"]["test"]["model"]["observed_rate"] - 1)
        for k in KINDS
    )  # fmt: skip
    return (
        f"Against the acceptance bar: test AUC is {shares[0]} (annual) and {shares[1]} "
        "(quarterly) of the true PD's\nAUC (bar: 97 %); the mean predicted PD is within "
        f"{100 * drift:.0f} % of the observed default rate (bar: 15 %);\nevery decile with at "
        "least 30 defaults is within a factor of 1.5 (largest gap: "
        + gaps[0].replace(", ", ",\n", 1)
        + f"; {gaps[1]})."
    )


REFERENCE = {
    "annual strong": ("annual", (10, 0.5, 20, 30, 15)),
    "annual distressed": ("annual", (85, 10, -30, 0.3, -15)),
    "quarterly strong": ("quarterly", (0.5, 30, 10, 30)),
    "quarterly distressed": ("quarterly", (10, 5, 85, -10)),
}


def section_reference() -> str:
    from accunode_cli.scoring import load_model

    said = {}
    for name, (kind, values) in REFERENCE.items():
        model = load_model(kind)
        score = model.score_one(dict(zip(model.ratio_names, map(str, values), strict=True)))
        p = score.probability
        said[name] = (f"{100 * p:.3f} %" if p < 0.01 else f"{100 * p:.1f} %", score)
    strong, distressed = said["annual strong"], said["annual distressed"]
    return (
        "Reference companies (tested): a strong annual profile (long-term debt / capital 10, "
        "debt /\nEBITDA 0.5, net margin 20, coverage 30, ROA 15) scores "
        f"{strong[0]} ({strong[1].risk_level}, {strong[1].implied_rating}); a distressed one "
        f"(85,\n10, −30, 0.3, −15) scores {distressed[0]} ({distressed[1].risk_level}, "
        f"{distressed[1].implied_rating}). Quarterly: (0.5, 30, 10, 30) scores "
        f"{said['quarterly strong'][0]}\n({said['quarterly strong'][1].risk_level}); "
        f"(10, 5, 85, −10) scores {said['quarterly distressed'][0]} "
        f"({said['quarterly distressed'][1].risk_level})."
    )


SECTIONS: dict[str, Callable[[], str]] = {
    "models-summary": section_summary,
    "performance-annual": lambda: _performance("annual"),
    "performance-quarterly": lambda: _performance("quarterly"),
    "calibration": section_calibration,
    "acceptance": section_acceptance,
    "reference-companies": section_reference,
}
SECTION = re.compile(r"(<!-- refresh: ([a-z-]+) -->\n)(.*?)(\n<!-- /refresh -->)", re.S)


def refresh_sections(text: str) -> str:
    """Regenerate every `<!-- refresh: NAME -->` section of a document."""
    return SECTION.sub(lambda m: m[1] + SECTIONS[m[2]]() + m[4], text)


# -- command blocks ------------------------------------------------------------------------------

BLOCK = re.compile(r"(<!-- refresh: (run|run-slow) -->\n```[^\n]*\n)(.*?)(\n```)", re.S)


def _commands(block: str) -> list[str]:
    """Return the `$ ` commands of a block, continuation lines joined."""
    commands, lines = [], block.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("$ "):
            command, j = line[2:], i
            while command.endswith("\\") and j + 1 < len(lines):
                j += 1
                command += "\n" + lines[j]
            commands.append(command)
    return commands


def run_block(block: str) -> str:
    """Run a block's commands in one shell from the repository root; return the new block."""
    commands = _commands(block)
    marker = "@@refresh-docs@@"
    # { ...; } keeps a command's own redirections (2>/dev/null) and merges the rest
    script = "".join(f"echo {marker}\n{{ {command}\n}} 2>&1\n" for command in commands)
    keep = ("ACCUNODE_DATA_DIR", "ACCUNODE_CONFIG_DIR")  # the tests point these elsewhere
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_") or k in keep}
    env.update(COLUMNS="200", PYTHONUNBUFFERED="1", NO_COLOR="1", TERM="dumb",
               PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")  # fmt: skip
    for kind in KINDS:  # a model the reader trains gets the shipped model's date
        env.setdefault("SOURCE_DATE_EPOCH", _epoch(manifest(kind)["created"]))
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=900)  # fmt: skip
    outputs = result.stdout.split(marker + "\n")[1:]
    pieces = []
    for command, output in zip(commands, outputs, strict=True):
        lines = [line.rstrip() for line in output.rstrip("\n").split("\n")] if output else []
        pieces.append("\n".join([f"$ {command}", *lines]))
    blank = "\n\n" if "\n\n$ " in block else "\n"
    return blank.join(pieces)


def _epoch(day: str) -> str:
    from datetime import UTC, datetime

    return str(int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()))


def mask(text: str) -> str:
    """Return text without its run-to-run timings."""
    for pattern, replacement in TIMINGS:
        text = pattern.sub(replacement, text)
    return text


def refresh_blocks(text: str, *, slow: bool) -> str:
    def replace(m: re.Match[str]) -> str:
        if m[2] == "run-slow" and not slow:
            return m[0]
        fresh = run_block(m[3])
        return m[1] + (m[3] if mask(fresh) == mask(m[3]) else fresh) + m[4]

    return BLOCK.sub(replace, text)


def refresh_versions(text: str) -> str:
    """Quote the shipped versions everywhere but in blocks of models the reader trains."""
    shipped = {kind: manifest(kind)["version"] for kind in KINDS}
    slow = [(m.start(), m.end()) for m in BLOCK.finditer(text) if m[2] == "run-slow"]

    def replace(m: re.Match[str]) -> str:
        inside = any(start <= m.start() < end for start, end in slow)
        return m[0] if inside else shipped[m[1]]

    return VERSION.sub(replace, text)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def refreshed(path: Path, *, slow: bool) -> str:
    """Return the up-to-date text of one document."""
    text = path.read_text(encoding="utf-8")
    return refresh_versions(refresh_blocks(refresh_sections(text), slow=slow))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="say what is stale, change nothing")
    parser.add_argument("--fast", action="store_true", help="skip the run-slow (training) blocks")
    args = parser.parse_args()
    stale = []
    targets: list[tuple[Path, Callable[[], str]]] = [(GOLDEN, golden_text)]
    targets += [(p, lambda p=p: refreshed(p, slow=not args.fast)) for p in documents()]
    for path, make in targets:
        new, old = make(), path.read_text(encoding="utf-8")
        if mask(new) != mask(old):
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'refreshed'}: {path}")  # noqa: T201
    if args.check and stale:
        print(f"fix: {FIX}")  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
