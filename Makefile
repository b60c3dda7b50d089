# Every target creates or reuses the local virtual environment .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKERS ?= 2
LAB_ARGS ?=  # e.g. --no-browser, or --allow-root in a container running as root

.PHONY: run test bench lint ui docs clean-venv lab

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else f"Python 3.12 or newer is needed, found {v.major}.{v.minor}: install it (pyenv install 3.12) or run with PYTHON=python3.12")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name loyalty-sim --display-name "Python (loyalty-sim)" >/dev/null
	@touch $(STAMP)

run: $(STAMP)  ## the flagship scenario, with its report
	$(BIN)/loyalty-sim run scenarios/coaching_vs_hr.yaml

test: $(STAMP)  ## the whole suite (calibration, CLI, notebooks, browser)
	@test "$$CI" = true || test -x "$${CHROMIUM:-/usr/bin/chromium}" || command -v chromium >/dev/null || echo "hint: no chromium found, so the browser tests (tests/test_browser.py) will be skipped; install it with: apt-get install -y chromium"
	$(BIN)/python -m pytest -n $(WORKERS) -q

bench: $(STAMP)  ## speed and scaling figures
	$(BIN)/python benchmarks/bench.py

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments notebooks

docs: $(STAMP)  ## regenerate the ODD's parameter and reporter tables and the README's reporter table
	$(BIN)/python -m sim.docs

ui: $(STAMP)
	$(BIN)/loyalty-sim ui

lab: $(STAMP)  ## JupyterLab on notebooks/, with the project's kernel (Python (loyalty-sim))
	$(BIN)/python -m ipykernel install --sys-prefix --name loyalty-sim --display-name "Python (loyalty-sim)" >/dev/null
	$(BIN)/jupyter lab notebooks $(LAB_ARGS)

clean-venv:
	rm -rf $(VENV)

.PHONY: bench-sweep
bench-sweep: $(STAMP)  ## sweep throughput: runs/s with 1 and 2 workers, time for 1,000 runs
	$(BIN)/python benchmarks/bench_sweep.py

.PHONY: bench-calibrate
bench-calibrate: $(STAMP)  ## full calibration of the synthetic example chain: time and recovery
	$(BIN)/python benchmarks/bench_calibrate.py --workers $(WORKERS)

.PHONY: fit-long
fit-long: $(STAMP)  ## the long published fit: carries on from a committed working folder (Ctrl-C keeps what it drew); finished, it returns the committed fit; CLUSTER=tcp://host:8786 runs it on a Dask cluster
	$(BIN)/loyalty-sim calibrate experiments/calibration_published_long.yaml $(if $(CLUSTER),--cluster $(CLUSTER),--workers $(WORKERS)) --out experiments/results/published_fit_long
