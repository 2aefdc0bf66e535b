# AccuNode: make demo | make test | make bench | make lint
# Each target creates .venv when it is missing and installs what it needs (PyPI only).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --no-input
PIP_QUIET := --quiet --retries 10 --timeout 60
# Keep installs quiet: the log is shown only when pip fails.
LOGGED = > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }

.PHONY: demo test bench lint venv clean help models

help:
	@echo "make demo   score sample_data/annual_companies.csv into out/annual_scored.csv"
	@echo "make test   run the whole test suite (pytest)"
	@echo "make bench  run every benchmark in bench/ (writes out/bench/results/;"
	@echo "            BENCH_DIR=bench records into the committed bench/results/)"
	@echo "make lint   ruff and mypy"
	@echo "make models regenerate the training data, retrain the shipped models and refresh"
	@echo "            the golden file and the docs that quote them (scripts/refresh_docs.py)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_QUIET) --upgrade pip setuptools wheel $(LOGGED)

# Stamps: reinstall when pyproject.toml changes (the package itself is editable).
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_QUIET) -e . $(LOGGED)
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_QUIET) -e '.[dev]' $(LOGGED)
	@touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-dev

demo: $(VENV)/.installed-run
	$(BIN)/accunode bulk-score sample_data/annual_companies.csv -o out/annual_scored.csv

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests

# Benchmarks run from a copy in BENCH_DIR and write BENCH_DIR/results/; bench/ records them.
BENCH_DIR ?= out/bench

bench: $(VENV)/.installed-dev
	PATH="$(abspath $(BIN)):$$PATH" bash bench/run.sh $(BENCH_DIR)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check accunode_cli/tabular accunode_cli/commands tests/tabular tests/commands
	$(BIN)/mypy

# The shipped models: generated data (seed 7) and training (seed 7); see docs/models.md.
# Set SOURCE_DATE_EPOCH to pin the date in the model version.
models: $(VENV)/.installed-dev
	$(BIN)/accunode model generate --kind annual --firms 10000 --seed 7 --out out/training/annual.parquet
	$(BIN)/accunode model train --kind annual --data out/training/annual.parquet --seed 7 \
		--out accunode_cli/scoring/models/annual
	$(BIN)/accunode model generate --kind quarterly --firms 5000 --seed 7 --out out/training/quarterly.parquet
	$(BIN)/accunode model train --kind quarterly --data out/training/quarterly.parquet --seed 7 \
		--out accunode_cli/scoring/models/quarterly
	$(BIN)/python scripts/refresh_docs.py  # golden file, README outputs, docs/models.md figures

# Generated files only: the committed bench/results/*.json stay.
clean:
	rm -rf out bench/data bench/results/api-data .pytest_cache .mypy_cache .ruff_cache
