# Two commands: `make run` (install, migrate, seed, serve) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The test suite's Node packages (axe-core for the accessibility test), exactly as locked.
NODE_INSTALLED := node_modules/.installed
# The embedded default is a development instance; production sets DJANGO_DEBUG=0 (README).
export DJANGO_DEBUG ?= 1
# `make run PORT=8123`: the development server listens there, and links in emails (SITE_URL,
# the Site's domain) follow unless SITE_URL is set.
PORT ?= 8000

.PHONY: install run test lint format

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_INSTALLED)

install: $(INSTALLED) $(NODE_INSTALLED)

run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_projects
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# -n 2: the machines have two cores. --dist worksteal: each worker starts on half of the tests in
# order (tests/conftest.py puts the long ones first) and an idle worker takes over half of what the
# other has not started, so both end together. The default (load) hands each worker a first chunk
# of a quarter of its share, consecutive: one worker got every heavy and browser test (1,310 s of
# the 2,214 s of test time; the other 904 s). Exit 5 (no tests collected) fails like any other error.
test: install
	$(BIN)/python -m pytest -n 2 --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
