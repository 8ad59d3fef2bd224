# The two commands a user needs: `make site` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= default
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000

.PHONY: install bench site build serve test test-fast lint browser lock clean shard merge bundle import-bundles archive

# Hash-checked install of the lock (requirements.txt, made by `make lock`). TORCH_INDEX: where
# the CPU build of torch comes from where it is not on disk (GitHub's runners:
# TORCH_INDEX=https://download.pytorch.org/whl/cpu); it is installed first, unhashed (see
# README.md, "Installing"), and the hashed install then finds it in place.
TORCH_INDEX ?=
TORCH_VERSION := 2.13.0

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(PY) -m pip install --quiet --no-deps --index-url $(TORCH_INDEX) torch==$(TORCH_VERSION))
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
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

# Regenerate requirements.txt from requirements.in with uv: hashes, for Linux x86-64 and aarch64,
# today's versions kept (scripts/lock.sh says how to change one).
UV_VERSION := 0.13.8
lock: $(STAMP)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	PY=$(PY) UV=$(VENV)/bin/uv bash scripts/lock.sh

# Sharded runs: shard I of N of the profile's experiments, balanced by each one's last duration
# in results/ (python -m benchmarks list --shard I/N shows the share), into shards/I-of-N/.
# `make merge` then copies every shard folder under shards/ into results/ (or SHARDS=...),
# refusing clashing or invalid files before it writes anything.
SHARD ?= 1/1
SHARD_DIR ?= shards/$(subst /,-of-,$(SHARD))
SHARDS ?= $(wildcard shards/*-of-*)
shard: $(STAMP)
	BENCH_RESULTS_DIR=$(SHARD_DIR) $(PY) -m benchmarks run --profile $(PROFILE) --shard $(SHARD)

merge: $(STAMP)
	$(if $(strip $(SHARDS)),,$(error no shard folders: run `make shard SHARD=I/N` or set SHARDS=DIR...))
	$(PY) -m benchmarks merge $(SHARDS)

# This machine's results as one archive (BUNDLE=file name; default results-<machine id>-<date>.tar.gz),
# and other machines' archives added under results/machines/ (BUNDLES=files).
BUNDLE ?=
BUNDLES ?= $(wildcard bundles/*.tar.gz)
bundle: $(STAMP)
	$(PY) -m benchmarks bundle $(if $(BUNDLE),-o $(BUNDLE))

# Results attached to earlier releases, into archive/<tag>/ for the releases page (needs the
# GitHub CLI and GH_TOKEN; SITE_VERSION: this release's tag, skipped).
SITE_VERSION ?=
archive: $(STAMP)
	bash scripts/fetch_release_archive.sh $(SITE_VERSION)

import-bundles: $(STAMP)
	$(if $(strip $(BUNDLES)),,$(error no bundles: put them in bundles/ or set BUNDLES=FILE...))
	$(PY) -m benchmarks import $(BUNDLES)

clean:
	rm -rf .cache site .pytest_cache .ruff_cache shards
