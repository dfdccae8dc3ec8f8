# Everyday commands. `make run` and `make test` work from a fresh clone with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test test-fast lint diagrams translations clean prod-local backup restore bench

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
	bash deploy/system-packages.sh || true
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The production shape natively (docker-compose.yml's processes on the local PostgreSQL and Redis)
prod-local: install
	$(BIN)/python deploy/prod_local.py --port $(or $(WEB_PORT),8000)

## pg_dump -Fc of DATABASE_URL into $(BACKUP_DIR); `make restore FILE=...` puts one back
BACKUP_DIR ?= backups
backup:
	deploy/backup.sh $(BACKUP_DIR)

restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/goalflow-....dump" >&2; exit 2; }
	deploy/restore.sh $(FILE) $(if $(YES),--yes)

## Benchmarks into docs/benchmarks.md (long; BENCH_SCALE=0.05 for a small run, BENCH="national" for one; installs wrk)
bench: install
	bash deploy/system-packages.sh
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	BENCH_SCALE=$(or $(BENCH_SCALE),1) BENCH="$(BENCH)" $(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

diagrams: install
	$(BIN)/flask --app service workflow-diagrams --out docs/workflows

## Extract the interface's strings, merge them into the Bulgarian catalogue, compile it
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project goalflow -o service/translations/messages.pot .
	$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations -l bg --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d service/translations --statistics

clean:
	rm -rf var/ .pytest_cache .ruff_cache
