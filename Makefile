# Parley: `make run` and `make test` do all set-up on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install run test check lint typecheck test-suite system-deps bench-deps bench bench-smtp crash-test fuzz clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: install
	$(BIN)/parley setup
	$(BIN)/parley run

# Debian packages the tests drive: Chromium (Playwright browser tests), swaks (an outside SMTP client),
# Postfix (a private instance in front of Parley with deploy/postfix/, tests/deploy)
# and a CJK font (so Chinese pages render in the screenshots).
# As root they are installed here; otherwise the missing ones are named.
SYSTEM_DEPS := /usr/bin/chromium:chromium /usr/bin/swaks:swaks /usr/sbin/postfix:postfix /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei
system-deps:
	@missing=""; for dep in $(SYSTEM_DEPS); do [ -e "$${dep%%:*}" ] || missing="$$missing $${dep##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "the tests need Debian packages:$$missing (sudo apt-get install$$missing)" >&2; exit 1; fi; fi

test: install system-deps
	$(BIN)/python -c "from parley.core.i18n import compile_catalogs; compile_catalogs()"
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory test-suite

test-suite:
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

check: lint typecheck

lint:
	$(BIN)/ruff check parley tests bench
	$(BIN)/ruff format --check parley tests bench
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy parley

# Postfix's smtp-source / smtp-sink drive the SMTP benchmark and the crash test.
bench-deps:
	@[ -x /usr/sbin/smtp-source ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null; }

bench: install bench-deps
	$(BIN)/python bench/run.py

bench-smtp: install bench-deps
	$(BIN)/python bench/bench_smtp.py

# 100,000 generated messages through the MIME parser and the subject decoder; fails on a crash.
fuzz: install
	$(BIN)/python bench/fuzz_mime.py --n 100000

crash-test: install bench-deps
	$(BIN)/python bench/crash_test.py

clean:
	rm -rf $(VENV) var build *.egg-info test-artifacts
