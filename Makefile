# Huijia (会家) — `make` lists the targets. Each target installs what it needs (uv included).
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY_RUN := $(UV) run --frozen

.PHONY: help uv install run test test-py schema bench-api frontend

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

uv: ## Install uv if it is missing
	@command -v uv >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/uv" ] || python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv

install: uv ## Install the platform and its dev tools from the lock file
	@$(UV) sync --frozen --quiet

run: install ## Run the platform on the embedded default (SQLite, in-process jobs, demo provinces) at http://127.0.0.1:8000
	@env -u DATABASE_URL -u REDIS_URL $(PY_RUN) huijia serve --demo

test: install ## Run the whole test suite against real PostgreSQL and Redis
	@$(PY_RUN) pytest -q

schema: install ## Regenerate schema.graphql from the code
	@$(PY_RUN) python -m core.graphql.export > schema.graphql

bench-api: install ## Benchmark: GraphQL list vs raw asyncpg+JSON (p50 latency ratio)
	@$(PY_RUN) python -m bench.api
