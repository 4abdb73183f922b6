# Parley: `make run` and `make test` do all set-up on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install run test check lint typecheck test-suite browser-deps bench bench-smtp clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: install
	$(BIN)/parley setup
	$(BIN)/parley run

# Debian's Chromium for the Playwright browser tests (root installs it; others must have it).
browser-deps:
	@command -v /usr/bin/chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

test: install browser-deps
	$(BIN)/python -c "from parley.core.i18n import compile_catalogs; compile_catalogs()"
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory test-suite

test-suite:
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

check: lint typecheck

lint:
	$(BIN)/ruff check parley tests bench
	$(BIN)/ruff format --check parley tests bench

typecheck:
	$(BIN)/mypy parley

bench: install
	$(BIN)/python bench/run.py

bench-smtp: install
	$(BIN)/python bench/bench_smtp.py

clean:
	rm -rf $(VENV) var build *.egg-info test-artifacts
