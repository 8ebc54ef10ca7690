# HLHT portal — the two commands are `make run` and `make test`; `make help` lists the rest.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv var run serve worker migrate demo test lint format bench bench-exchange clean vendor screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv and install the pinned requirements

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

var: venv ## Make the local state in HLHT_VAR_DIR (var/): a SECRET_KEY unless one is set, the broker folders
	$(BIN)/python -m hlht_portal.local_state

migrate: var ## Apply database migrations and refresh the role groups
	$(MANAGE) migrate --noinput
	$(MANAGE) hlht_roles

demo: migrate ## Load the demo data and print the demo logins
	$(MANAGE) hlht_demo

run: demo ## Set up everything and serve the portal, its worker and beat, and two live simulated operators
	@echo "Portal: http://127.0.0.1:8000/admin/  (Ctrl-C stops the portal, its worker and the simulated operators)"
	@DEBUG=1 $(BIN)/celery -A hlht_portal worker --beat -Q celery,pulls --loglevel=INFO --concurrency=2 & WORKER=$$!; \
	DEBUG=1 $(MANAGE) hlht_demo_live --portal http://127.0.0.1:8000/evcs/v1/ & LIVE=$$!; \
	trap 'kill $$LIVE $$WORKER 2>/dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $$WORKER 2>/dev/null || kill -0 $$LIVE 2>/dev/null || break; sleep 1; done; \
	      pkill -KILL -P $$WORKER 2>/dev/null; pkill -KILL -P $$LIVE 2>/dev/null; kill -KILL $$WORKER $$LIVE 2>/dev/null; true' EXIT INT TERM; \
	DEBUG=1 $(MANAGE) runserver 127.0.0.1:8000

serve: var ## Serve the web portal only (no worker, no demo data)
	DEBUG=1 $(MANAGE) runserver 127.0.0.1:8000

worker: var ## Run one Celery worker (beat, housekeeping and the pulls queue) in the foreground
	$(BIN)/celery -A hlht_portal worker --beat -Q celery,pulls --loglevel=INFO

# Two xdist workers: the `slow` tests (real processes, mostly waiting) run in one beside the rest, which run one after
# another in the other as a single group (tests/conftest.py). `PYTEST_ARGS=-n0` runs everything in one process.
test: var ## Run the whole test suite (SQLite by default; DATABASE_URL selects PostgreSQL)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: var ## ruff check, ruff format --check, import layers (lint-imports), types (mypy), Django checks, migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

vendor: var ## Refresh the committed front-end files in static/ from npm (ECharts, the Beijing district map)
	npm ci --no-audit --no-fund
	mkdir -p static/vendor/echarts
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE static/vendor/echarts/
	$(MANAGE) hlht_district_map

screenshots: var ## Refresh the README's screenshots (static/readme/*.png) from the browser tests (needs chromium)
	HLHT_README_SHOTS=1 $(BIN)/python -m pytest tests/browser -q

format: venv ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv ## Protocol pipeline micro-benchmark (prints medians)
	$(BIN)/python -m apps.protocol.bench

bench-exchange: migrate ## Part-2 benchmark: 20k-station crawl, 1 % increment, 50 push senders (15–25 min)
	$(MANAGE) hlht_bench_exchange

clean: ## Remove the virtualenv and local state (database, broker queue)
	rm -rf $(VENV) var
