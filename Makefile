# campledger: make run | make test | make lint | make bench
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The machine's own PostgreSQL, used for the second test pass when it answers (trust auth);
# the tests create and drop their own databases on it.
SERVICE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: venv lock run test test-only test-embedded test-service lint format bench bench-api \
	browser messages

# The installers a new virtualenv starts with, pinned: the Python on the machine may bring an
# old pip (3.11's ensurepip has pip 24.0 and setuptools 65.5) that resolves differently.
PIP_VERSION := 26.3
SETUPTOOLS_VERSION := 84.2.1
# Every package campledger and its development tools need, at one version, with the hashes
# of its files: the same install on every machine. `make lock` after changing pyproject.toml.
LOCK := requirements.lock
UV_VERSION := 0.13.9

venv: $(STAMP)

# Reinstall only when the dependencies may have changed.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==$(PIP_VERSION) setuptools==$(SETUPTOOLS_VERSION)
	# Every dependency from the lock, each file checked against its hash; then campledger
	# itself, editable, built with the setuptools just pinned. pip check then finds any
	# dependency of pyproject.toml the lock lacks or pins at another version.
	$(BIN)/pip install -q --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	# (The generator installed below, without its dependencies, is left out of the check.)
	broken="$$($(BIN)/pip check | grep -v -e '^openapi-python-client ' -e '^No broken' || true)"; \
	if [ -n "$$broken" ]; then echo "$$broken"; \
	  echo "$(LOCK) disagrees with pyproject.toml: run 'make lock' and commit both"; exit 1; fi
	# The OpenAPI client generator (tests/api/test_generated_client.py): see pyproject's dev.
	$(BIN)/pip install -q --no-deps openapi-python-client==0.29.1
	touch $(STAMP)

# The lock file, from pyproject.toml: every dependency and development dependency, each
# transitive one too, for Python 3.11 on any platform, with the hashes of its files.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal \
	  --generate-hashes --custom-compile-command 'make lock' --quiet -o $(LOCK)

run: venv
	$(BIN)/campledger serve --demo

test: venv lint browser test-only

# The console's browser tests drive Debian's chromium: Playwright launches it by path and
# never downloads a browser. Installed here when missing and we are root; otherwise say
# what to install (the browser tests then skip, and fail under CI=true).
CHROMIUM ?= /usr/bin/chromium
browser:
	if [ -x "$(CHROMIUM)" ]; then \
	  true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the console's browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "Debian's chromium is missing: run 'sudo apt-get install chromium' for the console's browser tests"; \
	fi

# The console's message catalogues: extract the messages of the code and templates, merge
# them into each language's .po (translate the empty msgstr there), compile the .mo files.
# Both are committed; tests/console/test_i18n.py fails when they are out of date.
LOCALES_DIR := api/console/locales
messages: venv
	$(BIN)/pybabel -q extract -F api/console/babel.cfg -o $(LOCALES_DIR)/messages.pot \
	  --no-location --sort-output --omit-header .
	$(BIN)/pybabel -q update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) -D messages \
	  --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date -w 100
	$(BIN)/pybabel -q compile -d $(LOCALES_DIR) -D messages

test-only: test-embedded test-service

# Exit code 5 means "no tests collected": not a failure while layers are still empty.
test-embedded: venv
	env -u CAMPLEDGER_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The second pass is about the store: tests with no database (the pure domain, the layout
# and packaging checks) and the console's browser walks (they exercise pages, not the store)
# gave the same answer in the first pass and would only double the run.
SERVICE_SKIP := --ignore=tests/domain --ignore=tests/console/browser \
	--ignore=tests/test_architecture.py --ignore=tests/test_docs.py --ignore=tests/test_packaging.py
test-service: venv
	if $(BIN)/python -c "import psycopg; psycopg.connect('$(SERVICE_URL)', connect_timeout=2).close()" \
	    2>/dev/null; then \
	  CAMPLEDGER_DATABASE_URL='$(SERVICE_URL)' $(BIN)/pytest $(SERVICE_SKIP) $(PYTEST_ARGS) || [ $$? -eq 5 ]; \
	else \
	  echo "PostgreSQL service ($(SERVICE_URL)) not answering: second test pass skipped"; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m bench.batch_registration

# The HTTP API under load (the real server on loopback); BENCH_API_ARGS="--workers 2" etc.
BENCH_API_ARGS ?=
bench-api: venv
	$(BIN)/python -m bench.api_load $(BENCH_API_ARGS)
