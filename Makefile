# The two commands a new machine needs: `make demo` (the main job end to end on the embedded
# defaults) and `make test` (every test). Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DATA ?= data
DEMO_ROWS ?= 121856
DEMO_SEED ?= 7
DBT := $(BIN)/dbt
DBT_ARGS := --project-dir . --profiles-dir profiles

.PHONY: install demo test lint format lock clean

install: $(VENV)/.installed

# Re-run the install whenever a lock file or the package metadata changes.
$(VENV)/.installed: requirements/lock.txt requirements/dev-lock.txt setup.cfg scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/lock.txt -r requirements/dev-lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

demo: install
	@echo "==> 1/5 generating a loan book of $(DEMO_ROWS) applications (seed $(DEMO_SEED))"
	$(BIN)/loanops generate --rows $(DEMO_ROWS) --seed $(DEMO_SEED) --name demo
	@echo "==> 2/5 ingesting the landing folder into the DuckDB warehouse"
	$(BIN)/loanops ingest
	@echo "==> 3/5 dbt build: bronze -> silver -> gold, with every test"
	$(DBT) build $(DBT_ARGS)
	@echo "==> 4/5 training logistic regression, XGBoost and LightGBM (MLflow under $(DATA)/mlflow)"
	$(BIN)/loanops train
	@echo "==> 5/5 promotion gate: challenger -> champion"
	$(BIN)/loanops promote
	@echo "==> demo finished: warehouse at $(DATA)/warehouse.duckdb"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/loanops features render --check
	$(BIN)/sqlfluff lint dbt_project

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install lint
	$(BIN)/pytest

# Re-resolve the pins (needs the package index); commit the changed lock files.
lock:
	$(PYTHON) -m venv /tmp/loanops-uv && /tmp/loanops-uv/bin/pip install --quiet uv==$(UV_VERSION)
	/tmp/loanops-uv/bin/uv pip compile requirements/main.in -o requirements/lock.txt --python-version 3.11
	/tmp/loanops-uv/bin/uv pip compile requirements/dev.in -o requirements/dev-lock.txt --python-version 3.11

clean:
	rm -rf $(DATA) target logs
