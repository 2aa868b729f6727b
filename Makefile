# Huijia (会家) — `make` lists the targets. Each target installs what it needs (uv included).
SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv from PATH if present, else the module installed by `make uv` into this python.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY_RUN := $(UV) run --frozen

.PHONY: help uv install run test test-citus test-fast test-py lint lint-imports schema bench-api bench-import bench-ledger bench-stations bench-hardship bench-warmth bench-mutual-aid bench-citus frontend test-frontend screenshots chromium

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

uv: ## Install uv if it is missing
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

install: uv ## Install the platform and its dev tools from the lock file
	@$(UV) sync --frozen --quiet

run: install frontend ## Run the platform on the embedded default (SQLite, in-process jobs, demo provinces) at http://127.0.0.1:8000
	@env -u DATABASE_URL -u REDIS_URL $(PY_RUN) huijia serve --demo

test: install lint ## Run the whole test suite (slow tests included) against real PostgreSQL and Redis
	@$(PY_RUN) pytest -q
	@$(MAKE) --no-print-directory test-frontend

test-citus: install ## Run the isolation suites on a throw-away local Citus cluster (builds Citus from CITUS_SRC if missing)
	@UV="$(UV)" deploy/citus/test-citus.sh

test-fast: install ## Quick check while working: unit, contract and plugin tests, without the slow ones (make test runs everything)
	@$(PY_RUN) pytest -q -m "not slow" tests/unit tests/contract tests/plugins_dummy plugins

lint: install lint-imports ## Lint (ruff), the import layering and the types of core (mypy)
	@$(PY_RUN) ruff check --no-cache .
	@$(PY_RUN) mypy core

lint-imports: install ## Check the import layering (core imports no plugin, plugins only core.sdk, no cycles)
	@$(PY_RUN) lint-imports --no-cache

schema: install ## Regenerate schema.graphql from the code (and the web UI's GraphQL types)
	@$(PY_RUN) python -m core.graphql.export > schema.graphql
	@if [ -d frontend/node_modules ]; then (cd frontend && npm run -s codegen >/dev/null) || echo "warning: frontend/src/graphql/generated.ts not regenerated: run cd frontend && npm run codegen"; fi

frontend: ## Build the web UI (frontend/dist, served at /); skipped when npm is missing
	@if command -v npm >/dev/null 2>&1; then cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run -s build; \
	else echo "npm not found: skipping the web UI build (/ shows a placeholder page)"; fi

test-frontend: install frontend chromium ## Web UI tests: Vitest, generated-types staleness check, end-to-end flows in Debian's Chromium
	@if command -v npm >/dev/null 2>&1; then cd frontend && npm run -s codegen:check && npm test -- --reporter=dot && UV="$(UV)" npm run -s e2e; \
	else echo "npm not found: skipping the web UI tests"; fi

screenshots: install frontend chromium ## Run the end-to-end flows and write their screenshots into docs/screenshots/
	@cd frontend && HUIJIA_E2E_SHOTS=docs UV="$(UV)" npm run -s e2e

chromium: ## Install Debian's Chromium (and Chinese fonts) for the end-to-end tests if missing (never a downloaded browser)
	@[ -x /usr/bin/chromium ] || ! command -v apt-get >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@# Chinese fonts, or the screenshots the end-to-end tests write to docs/ show empty boxes.
	@fc-list :lang=zh 2>/dev/null | grep -q . || ! command -v apt-get >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }

bench-api: install ## Benchmark: GraphQL list vs raw asyncpg+JSON (p50 latency ratio)
	@$(PY_RUN) python -m bench.api

bench-ledger: install ## Benchmark: ledger posting throughput (8 clients, checks + hash chain) vs raw asyncpg INSERTs
	@$(PY_RUN) python -m bench.ledger

bench-stations: install ## Benchmark: public station finder, nearest-20 open-now at 200,000 stations vs one raw SQL query (p50 ratio)
	@$(PY_RUN) python -m bench.stations

bench-hardship: install ## Benchmark: yearly re-verification of 100,000 archives (hooks + one write each) vs one raw UPDATE (throughput ratio)
	@$(PY_RUN) python -m bench.hardship

bench-import: install ## Benchmark: 1,000,000-row roster import vs raw COPY (throughput ratio, peak RSS)
	@$(PY_RUN) python bench/import/run.py

bench-warmth: install ## Benchmark: a warmth campaign approved and distributed to 100,000 beneficiaries vs raw INSERTs of the postings (ratio, peak RSS)
	@$(PY_RUN) python -m bench.warmth
bench-mutual-aid: install ## Benchmark: automatic claims, 100,000 hospital stays against 1,000,000 enrolled members vs raw COPY (ratio, peak RSS)
	@$(PY_RUN) python -m bench.mutual_aid

bench-citus: install ## Benchmark: tenant-scoped GraphQL and ledger load on a local Citus cluster, two workers vs one (ratio, router share)
	@deploy/citus/cluster.sh build
	@$(PY_RUN) python -m bench.citus
