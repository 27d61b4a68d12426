# clientflow: `make run` and `make test` work on a fresh clone (they install what they need first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install run test test-sqlite test-postgres lint bench browser-deps clean

install: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Front-end packages (bpmn-js, chart.js) from npm, copied into webapp/static/vendor.
$(NPM_STAMP): package.json
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
	else npm install --no-audit --no-fund --loglevel=error; fi
	$(BIN)/python -m webapp.cli.vendor
	touch $(NPM_STAMP)

# Debian's chromium for the browser tests; skipped when already present.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/clientflow run --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# The two database passes run side by side (separate databases, Redis databases and browsers); each pass's output
# is printed whole when it ends, and the target fails if either fails.
test: install browser-deps lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install
	CLIENTFLOW_TEST_DATABASE=sqlite $(BIN)/pytest -q

test-postgres: install
	CLIENTFLOW_TEST_DATABASE=$(PG_URL) $(BIN)/pytest -q

bench: install
	$(BIN)/clientflow bench

clean:
	rm -rf $(VENV) node_modules webapp/static/vendor .pytest_cache
