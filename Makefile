# compactwatch: every command a developer or CI needs. `make run` and `make test` work on a
# fresh machine: they create .venv and install what is missing first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test demo bench bench-scale lint format train eval install clean help

help:
	@echo "make run    - poll feeds on schedule and send alerts (Ctrl-C stops)"
	@echo "make test   - run the test suite"
	@echo "make demo   - one cycle against bundled sample feeds and a local Slack server"
	@echo "make bench  - politeness on: end to end vs raw extraction, politeness floor, alert latency, memory"
	@echo "make train  - retrain the classifier from classifiers/data"
	@echo "make eval   - evaluate the model and the keyword baseline"
	@echo "make lint   - ruff and the import layers (lint-imports)"
	@echo "make bench-scale - Celery runner: articles/s with 1, 2 and 4 worker processes"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/compactwatch run

test: $(STAMP)
	@.ci/chromium
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/compactwatch demo

bench-scale: $(STAMP)
	$(BIN)/python -m pipeline.celery_runner.bench

bench: $(STAMP)
	$(BIN)/python -m pipeline.bench

train: $(STAMP)
	$(BIN)/compactwatch train

eval: $(STAMP)
	$(BIN)/compactwatch eval

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
