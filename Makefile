# Two commands on a fresh machine: `make run` starts the embedded stack, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The dashboard's browser test drives Debian's chromium; Chinese text needs a CJK font.
BROWSER_PACKAGES := chromium fonts-wqy-microhei

.PHONY: run test lint bench docs clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
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

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.year_virtual --bases 1000

docs: $(DEV_STAMP)
	$(BIN)/python -m services.docs docs

clean:
	rm -rf $(VENV) .navcycle .pytest_cache .mypy_cache test-artifacts
