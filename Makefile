# Every target creates or reuses the local virtual environment .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKERS ?= 2

.PHONY: run test bench lint ui docs clean-venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else f"Python 3.12 or newer is needed, found {v.major}.{v.minor}: install it (pyenv install 3.12) or run with PYTHON=python3.12")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)  ## the flagship scenario, with its report
	$(BIN)/loyalty-sim run scenarios/coaching_vs_hr.yaml

test: $(STAMP)  ## the whole suite (calibration, CLI, notebooks, browser)
	$(BIN)/python -m pytest -n $(WORKERS) -q

bench: $(STAMP)  ## speed and scaling figures
	$(BIN)/python benchmarks/bench.py

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments

docs: $(STAMP)  ## regenerate the ODD parameter table from sim/model/parameters.py
	$(BIN)/python -c 'from sim.model.parameters import write_odd_table; write_odd_table()'

ui: $(STAMP)
	$(BIN)/loyalty-sim ui

clean-venv:
	rm -rf $(VENV)

.PHONY: bench-sweep
bench-sweep: $(STAMP)  ## sweep throughput: runs/s with 1 and 2 workers, time for 1,000 runs
	$(BIN)/python benchmarks/bench_sweep.py

.PHONY: bench-calibrate
bench-calibrate: $(STAMP)  ## full calibration of the synthetic example chain: time and recovery
	$(BIN)/python benchmarks/bench_calibrate.py --workers $(WORKERS)
