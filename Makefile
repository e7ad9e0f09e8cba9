# The two commands a new machine needs: `make demo` (the main job end to end on the embedded
# defaults) and `make test` (every test). Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DATA ?= data

.PHONY: install demo stop test test-prodlike lint format lock clean prodlike prodlike-stop

install: $(VENV)/.installed

# Re-run the install whenever a lock file or the package metadata changes.
$(VENV)/.installed: requirements/lock.txt requirements/dev-lock.txt setup.cfg scripts/install-system-deps.sh package-lock.json
	bash scripts/install-system-deps.sh
	npm ci --no-audit --no-fund --loglevel=error
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements/lock.txt -r requirements/dev-lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

demo: install
	bash scripts/demo.sh

# Stop the API and UIs that `make demo` left running.
stop:
	bash scripts/stop-demo.sh

# The production shape on this machine, loopback only: PostgreSQL, Azurite, an MLflow server,
# Dagster webserver + daemon + code-location container, two API pods (scripts/prodlike/up.sh
# says what each stands in for). Then `source data/prodlike/env`.
prodlike: install
	bash scripts/prodlike/up.sh

prodlike-stop:
	bash scripts/prodlike/down.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/loanops features render --check
	$(BIN)/sqlfluff lint dbt_project

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The production-shape tests (tests/prodlike, which pytest runs last) run the podman
# images. Their build (about 8 minutes the first time here, mostly downloading wheels) starts in
# the background before pytest, so it overlaps the tests that come before them; the stack's
# fixture waits for it (images.sh holds a lock) and reports its failure with the build's log.
# Built images are kept and rebuilt only when their inputs change.
PRODLIKE_TESTS := tests/prodlike

test: install lint
	mkdir -p data/prodlike/logs
	nohup bash scripts/prodlike/images.sh >data/prodlike/logs/images.log 2>&1 &
	$(BIN)/pytest

test-prodlike: install
	$(BIN)/pytest $(PRODLIKE_TESTS)

# Re-resolve the pins (needs the package index); commit the changed lock files.
# Compiled from requirements/, as the lock files' headers say (their "via" comments name .in files).
lock:
	$(PYTHON) -m venv /tmp/loanops-uv && /tmp/loanops-uv/bin/pip install --quiet uv==$(UV_VERSION)
	cd requirements && /tmp/loanops-uv/bin/uv pip compile main.in -o lock.txt --python-version 3.11
	cd requirements && /tmp/loanops-uv/bin/uv pip compile dev.in -o dev-lock.txt --python-version 3.11
	cd requirements && /tmp/loanops-uv/bin/uv pip compile serving.in -o serving-lock.txt --python-version 3.11 --generate-hashes

clean:
	rm -rf $(DATA) target logs
