"""Regenerate the sample files from the scoring core's seeded generator.

    python sample_data/generate.py [--out DIR]

The output is byte-for-byte reproducible (gzip members carry no time stamp or file name), so
regenerating into sample_data/ changes nothing unless the generator changed.

The companies are fictitious; their ratios come from the same generator the shipped models
were trained on (its most recent years), written the way real exports write them: two
decimals, "NM" for not-meaningful values and blanks for missing ones.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from accunode_cli.scoring import ratio_names
from accunode_cli.scoring.generator import generate

HERE = Path(__file__).resolve().parent
FIRST = [
    "Northwind",
    "Harbor",
    "Apex",
    "Blue",
    "Cedar",
    "Summit",
    "Iron",
    "Silver",
    "Granite",
    "Pioneer",
    "Evergreen",
    "Atlas",
    "Crescent",
    "Falcon",
    "Meridian",
    "Orion",
    "Redwood",
    "Sterling",
    "Vertex",
    "Willow",
    "Aurora",
    "Beacon",
    "Cobalt",
    "Delta",
    "Ember",
    "Frontier",
    "Glacier",
    "Horizon",
    "Juniper",
    "Keystone",
    "Lumen",
    "Magnolia",
    "Nimbus",
    "Oakridge",
    "Pinnacle",
    "Quarry",
    "Riverton",
    "Sable",
    "Tidewater",
    "Unity",
    "Vantage",
    "Westfield",
    "Yukon",
    "Zephyr",
]
SECOND = [
    "Holdings",
    "Industries",
    "Energy",
    "Foods",
    "Logistics",
    "Systems",
    "Materials",
    "Health",
    "Retail",
    "Telecom",
    "Chemicals",
    "Motors",
    "Resources",
    "Software",
    "Media",
    "Utilities",
]


def _companies(count: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    names: list[str] = []
    symbols: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
        if name in seen:
            continue
        seen.add(name)
        base = (name.split()[0][:3] + name.split()[1][:1]).upper()
        symbol = base
        suffix = 1
        while symbol in symbols:
            suffix += 1
            symbol = f"{base}{suffix}"
        names.append(name)
        symbols.append(symbol)
    return names, symbols


def _cell(value: float) -> str:
    if np.isnan(value):
        return ""
    if abs(value) >= 1e7:
        return "NM"
    return f"{value:.2f}"


def _latest(kind: str, firms: int, seed: int) -> dict[str, np.ndarray]:
    columns = generate(kind, firms=firms, seed=seed).columns
    keep = columns["year"] == 2024
    return {key: value[keep] for key, value in columns.items()}


def write_companies(kind: str, firms: int, seed: int, out: Path = HERE) -> pa.Table:
    """Write sample_data/<kind>_companies.csv and return it as text columns."""
    rng = np.random.default_rng(seed)
    data = _latest(kind, firms, seed)
    n = len(data["firm_id"])
    firm_ids = np.unique(data["firm_id"])
    names, symbols = _companies(len(firm_ids), rng)
    index = {firm: i for i, firm in enumerate(firm_ids)}
    caps = {firm: round(float(rng.lognormal(8.5, 1.4)), 1) for firm in firm_ids}
    header = ["company_symbol", "company_name", "market_cap", "sector", "reporting_year"]
    if kind == "quarterly":
        header.append("reporting_quarter")
    header += list(ratio_names(kind))
    rows = []
    for row in range(n):
        firm = data["firm_id"][row]
        record = [
            symbols[index[firm]],
            names[index[firm]],
            f"{caps[firm]:.1f}",
            str(data["sector"][row]),
            str(int(data["year"][row])),
        ]
        if kind == "quarterly":
            record.append(f"Q{int(data['quarter'][row])}")
        record += [_cell(float(data[name][row])) for name in ratio_names(kind)]
        rows.append(record)
    with open(out / f"{kind}_companies.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(header)})


def write_parquet_copy(out: Path = HERE) -> None:
    """Write annual_companies.parquet: the CSV with numeric columns typed, NM as a sentinel."""
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(
        out / "annual_companies.csv",
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in ratio_names("annual")}
        ),
    )
    for name in ratio_names("annual"):
        text = table.column(name).to_pylist()
        values = [None if t in ("", None) else 1e8 if t == "NM" else float(t) for t in text]
        position = table.schema.get_field_index(name)
        table = table.set_column(position, name, pa.array(values, type=pa.float64()))
    pq.write_table(table, out / "annual_companies.parquet")


def write_training(kind: str, firms: int, seed: int, out: Path = HERE) -> None:
    """Write <kind>_training.csv.gz: ratios plus the 0/1 default column `model train` reads."""
    columns = generate(kind, firms=firms, seed=seed).columns
    keep = [*ratio_names(kind), "year", "sector", "default"]
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(keep)
    for row in range(len(columns["default"])):
        writer.writerow(
            [
                _cell(float(columns[k][row])) if k in ratio_names(kind) else columns[k][row]
                for k in keep
            ]
        )
    # mtime=0 and no file name in the header: the same data always gives the same bytes
    data = gzip.compress(handle.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    (out / f"{kind}_training.csv.gz").write_bytes(data)


def main(out: Path = HERE) -> None:
    """Write every sample file into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_companies("annual", firms=300, seed=11, out=out)
    write_companies("quarterly", firms=75, seed=12, out=out)
    write_parquet_copy(out)
    write_training("annual", firms=400, seed=21, out=out)
    write_training("quarterly", firms=120, seed=22, out=out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Regenerate the sample files.")
    parser.add_argument("--out", type=Path, default=HERE, help="folder (default: sample_data/)")
    main(parser.parse_args().out)
