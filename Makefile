# Everyday commands. `make run` and `make test` work from a fresh clone with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test test-fast lint diagrams clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Migrate the embedded SQLite database, load the demo, serve web + worker + scheduler on http://$(HOST):$(PORT)
run: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m service.embedded

## The whole suite: SQLite and PostgreSQL, real worker, SMTP sink and browser where available
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

diagrams: install
	$(BIN)/flask --app service workflow-diagrams --out docs/workflows

clean:
	rm -rf var/ .pytest_cache .ruff_cache
