# tuneworth: `make` lists the targets. Every target creates .venv and installs what it needs.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SPEC ?= pipelines/default.yaml
PORT ?= 5000
BENCH ?=

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

.PHONY: help experiment test test-fast lint format ui bench nested clean

## Show this help
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-z-]+:/{if(doc){split($$0,t,":"); printf "  make %-12s %s\n", t[1], doc}; doc=""}' $(MAKEFILE_LIST)

## Run an experiment: pipelines/default.yaml, or SPEC=pipelines/other.yaml
experiment: $(VENV)/.installed
	$(BIN)/tuneworth run $(SPEC)

## Run the whole test suite (slow statistical tests included)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

## The quick lane for your own loop: every test not marked slow (under about 2 minutes)
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not slow"

## Lint, check formatting and types (ruff, mypy)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

## Format the code (ruff)
format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

## Serve the MLflow UI for this project's store on 127.0.0.1 (PORT=5000)
ui: $(VENV)/.installed
	$(BIN)/tuneworth ui --port $(PORT)

## Run the performance benchmarks into benchmarks/results/ (BENCH="--quick" or section names)
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py $(BENCH)

## Nested against non-nested scores of a tuned SVM, over 10 seeds: the optimism gap
nested: $(VENV)/.installed
	$(BIN)/python benchmarks/nested.py

## Remove caches and build leftovers (keeps .venv and your MLflow runs in mlruns/)
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
	find . -name __pycache__ -type d -not -path './.venv/*' -prune -exec rm -rf {} +
