# Two commands do all the set-up: `make run` (index the corpus, serve the web chat and API)
# and `make test` (the whole test suite). Everything else here is a step of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install run index test test-fast test-slow lint bench browser eval clean

install: $(STAMP)

# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; unpinned, pip would
# pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

index: install
	$(BIN)/bot index

run: index
	$(BIN)/bot serve

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The whole suite: unit, end-to-end, Chroma server, browser tests and the eval gate.
test: install browser
	$(BIN)/python -m pytest -q

# The everyday loop: everything but the tests marked slow.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check bot tests
	$(BIN)/mypy bot

bench: index
	$(BIN)/python scripts/bench.py

clean:
	rm -rf .index runs test-artifacts
