# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi
# PostgreSQL for the second pass of the suite; unreachable -> those tests skip with the reason.
export TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run serve test check-migrations install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

run: $(VENV)/.installed
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo "Outreach is at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# The production way: gunicorn with gunicorn.conf.py (workers, timeouts, graceful stop), on BIND.
# No demo data: a real site imports its own (README, "Starting a real organisation").
serve: $(VENV)/.installed
	mkdir -p instance
	$(BIN)/flask db upgrade
	@echo "Outreach (gunicorn) is at http://$${BIND:-127.0.0.1:8000}/ (Ctrl-C stops it)"
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

# The model, service and view tests run in a process per CPU (at most 4, pytest-xdist): each process makes
# its own scratch databases. The browser stories run one at a time: each has a server and a Chromium of its own.
TEST_PROCESSES ?= --numprocesses=auto --maxprocesses=4

test: $(VENV)/.installed-test check-migrations
	$(BIN)/pytest -m "not browser" $(TEST_PROCESSES)
	$(BIN)/pytest -m browser
	$(BIN)/pytest --db=postgres -m "not browser" -q $(TEST_PROCESSES)

# A fresh database, `flask db upgrade`d, must match the models (`flask db check`), on SQLite and PostgreSQL:
# a model change without its migration fails here.
check-migrations: $(VENV)/.installed-test
	$(BIN)/python scripts/check_migrations.py

bench: $(VENV)/.installed-test
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
