# Two commands do all set-up on a fresh machine:
#   make run    the service on the embedded SQLite default (data/tracker.sqlite3)
#   make test   the test suite, on SQLite and on PostgreSQL (127.0.0.1:5432, database test)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: run test install demo bench

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

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

demo: $(STAMP)
	$(BIN)/tracker demo
