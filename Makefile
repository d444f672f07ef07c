# The two commands of the README: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: demo test lint check bench-probe system-packages services clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## Run the portal with a simulated demo fleet on embedded defaults (no services needed).
demo: $(STAMP)
	DEBUG=True $(PY) manage.py rundemo

system-packages:
	bash scripts/install-system-packages.sh

services:
	bash scripts/ensure-services.sh

## Run the whole test suite against the real PostgreSQL and Redis.
test: $(STAMP) system-packages services
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run --settings=portal.settings_test
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench-probe: $(STAMP) system-packages services
	$(PY) bench/probe_fleet.py

clean:
	rm -rf var .pytest_cache
