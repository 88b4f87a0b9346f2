# RecSys31 - the two commands that matter: `make run` and `make test`.
# Both create/update .venv on a bare machine (Python 3.11+, internet access to PyPI only).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CLIENTS ?= 5000
DEMO_MONTHS ?= 17
DEMO_SEED ?= 31

# Python may write the bytecode of what it imports into the project's own .venv (and the
# ignored __pycache__ folders). An environment with PYTHONDONTWRITEBYTECODE set (this machine's
# is) made every process compile pandas, SciPy, scikit-learn and CatBoost from source again:
# about 20 s of CPU per `recsys` process, and `make run` and the tests start dozens of them.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv run test lint typecheck demo-data models evaluate clean-state help web web-tools-background

help:
	@echo "make run   - set up everything on embedded defaults and run the system"
	@echo "make test  - set up and run lint, type checks and the test suite"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list changes (idempotent, fast when up to date).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check uv || true
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --python $(BIN)/python -q -e ".[dev]"; \
	else $(BIN)/python -m pip install -q -e ".[dev]"; fi
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check core api web cli tests bench alembic/env.py

typecheck: venv
	$(BIN)/mypy

test: venv lint typecheck
	$(BIN)/python -m pytest -q -ra --durations=15

# Demo population, generated once per state folder (RECSYS_HOME, default .recsys/).
# `recsys data profile` shows what is in it (not on the way to the first screen: ~30 s).
demo-data: venv
	$(BIN)/recsys db upgrade
	$(BIN)/recsys data generate --clients $(DEMO_CLIENTS) --months $(DEMO_MONTHS) --seed $(DEMO_SEED) --if-empty

# The serving models on the demo population, trained once per state folder. Only what the
# first screens need: the API decides a client's offers when first asked (no batch job), and
# the offline evaluation of every strategy (minutes: it retrains every model for its holdout
# month) runs once in the background after `recsys up` is up, stored for the analytics panel
# (`make evaluate` or `recsys evaluate` in the foreground; `recsys recommend --all` for the batch).
models: demo-data
	if [ ! -d "$${RECSYS_HOME:-.recsys}/models" ] || [ -z "$$(ls -A $${RECSYS_HOME:-.recsys}/models)" ]; then \
		$(BIN)/recsys train; fi

evaluate: models
	$(BIN)/recsys evaluate --latest

# The whole system in the foreground: relay, worker, GraphQL API (GraphiQL at /graphql) and
# the web app on the embedded database and broker; Ctrl-C stops it. WORKERS=2 for two workers.
# (`recsys recommend --demo 3` shows three clients' decisions in the terminal: ~1.5 min of
# model loading on a busy 2-core machine, so not on the way to the first screen.)
WORKERS ?= 1
run: web-tools-background models
	$(BIN)/recsys up --workers $(WORKERS)

# bun from the npm registry (network-bound, ~25 s) while the models train; the script holds a
# lock, so `recsys up` waits for it (or does it, with its errors shown, if it failed here).
web-tools-background:
	bash scripts/install_web_tools.sh > /dev/null 2>&1 &

# The Reflex web app alone (dev mode, http://localhost:3000), against the API at API_URL
# (default http://127.0.0.1:8000/graphql, e.g. from `recsys up --no-web` or `recsys api`).
web: venv
	bash scripts/install_web_tools.sh
	PATH="$(CURDIR)/.tools/web/node_modules/.bin:$$PATH" REFLEX_TELEMETRY_ENABLED=false $(BIN)/reflex run --env dev

clean-state:
	rm -rf .recsys
