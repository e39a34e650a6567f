# The two commands of the README: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: setup run test test-fast lint bench snapshot clean

$(BIN)/drivers: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

setup: $(BIN)/drivers

## Start the dashboard on the embedded snapshot (or data/drivers.duckdb if a fetch made one).
run: setup
	$(BIN)/drivers serve --host $(HOST) --port $(PORT)

## Lint and run the whole test suite (browser tests need Debian's chromium + chromium-driver).
test: setup
	$(BIN)/ruff check src tests bench app.py
	$(BIN)/pytest

## The edit-test loop: everything but the browser, kaleido (PNG export) and slow tests (~60 s on 2 cores).
## Compiled modules are kept under .venv/pycache even where PYTHONDONTWRITEBYTECODE is set: otherwise each of the
## three processes compiles src/ and pytest rewrites every test module on every run (~6 s of CPU each).
test-fast: setup
	$(BIN)/ruff check src tests bench app.py
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(abspath $(VENV))/pycache \
	  $(BIN)/pytest -q -n 2 --dist loadfile -m "not browser and not kaleido and not slow" -p no:warnings

lint: setup
	$(BIN)/ruff check src tests bench app.py

## Speed and memory, each printed as a ratio against a baseline measured in the same run.
# -P keeps bench/ off sys.path, so bench/drivers.py does not hide the drivers package.
bench: setup
	$(BIN)/python -P bench/ingest.py
	$(BIN)/python -P bench/fetch_plan.py
	$(BIN)/python -P bench/drivers.py
	$(BIN)/python -P bench/export.py
	$(BIN)/python -P bench/app_latency.py

## Rebuild data/snapshot.duckdb from ../shared (real SSB and Kartverket data).
snapshot: setup
	$(BIN)/drivers snapshot build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
