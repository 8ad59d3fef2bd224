# The two commands a user needs: `make site` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000

.PHONY: install bench site build serve test test-fast lint browser lock clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)

# Run the pipelines that are not up to date (PROFILE=toy|default|full).
bench: $(STAMP)
	$(PY) -m benchmarks run --profile $(PROFILE)

# Install, run the pipelines, build site/. The site is built even when an
# experiment failed (its page says so); make still exits non-zero then.
site: $(STAMP)
	$(PY) -m benchmarks run --profile $(PROFILE); status=$$?; \
	  $(VENV)/bin/mkdocs build --strict && exit $$status

build: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

# Preview from the results already on disk; runs no pipeline.
serve: $(STAMP)
	$(VENV)/bin/mkdocs serve --dev-addr $(ADDR)

# The fast tier first (a broken rule fails in a minute), then the toy run, the site and the browser.
test: $(STAMP) browser lint
	$(PY) -m pytest -m "not full"
	$(PY) -m pytest -m full

# Unit tests and rule tests on synthetic results: no toy run, no browser, under two minutes.
test-fast: $(STAMP) lint
	$(PY) -m pytest -m "not full"

# Style and the type check (the import-layer contracts are a test: tests/test_layers.py).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Debian's chromium and a CJK font for the real-browser tests (browser downloads by test tools
# fail offline); the script returns at once when both are there.
browser:
	@bash scripts/install_chromium.sh

lock: $(STAMP)
	$(PY) -m pip install --quiet -r requirements.in
	{ echo "# Exact pins of every package, transitive ones included; regenerate with"; \
	  echo "# 'make lock' after changing requirements.in."; \
	  $(PY) -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

clean:
	rm -rf .cache site .pytest_cache .ruff_cache
