# Two commands do all set-up on a fresh machine:
#   make run    the service on the embedded SQLite default (data/tracker.sqlite3)
#   make test   the test suite, on SQLite and on PostgreSQL (127.0.0.1:5432, database test)
# For developers:
#   make check      ruff, ruff format --check, mypy, import-linter contracts (no database)
#   make test-fast  the tests not marked slow, on SQLite, 2 workers (see README)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: run test test-fast check install demo bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tracker run

test: $(STAMP)
	BIN=$(BIN) scripts/test

# PYTHONDONTWRITEBYTECODE is unset so pytest keeps its rewritten test modules (and Python its
# bytecode) between runs: without that cache every run recompiles ~500 modules (about 13 s).
test-fast: $(STAMP)
	env -u TRACKER_TEST_DATABASE_URL -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n 2 -m "not slow"

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

demo: $(STAMP)
	$(BIN)/tracker demo
