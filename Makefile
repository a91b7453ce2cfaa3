# Lookalike: `make run` (the app with its demo catalog) and `make test` (the whole suite).
PYTHON ?= python3
# CI keeps the (large, torch) virtualenv outside the clone by setting LOOKALIKE_VENV.
VENV ?= $(or $(LOOKALIKE_VENV),.venv)
PY := $(VENV)/bin/python
DEMO_DATA ?= ../shared/datasets/grocery-store
HOST_PORT ?= 127.0.0.1:8000
# `make run`'s queue workers: processes, and torch threads each (default: LOOKALIKE_TORCH_THREADS, else the
# cores shared out, at least 1).
# Two processes of one thread embedded twice as fast as one process of two on 2 cores (docs/benchmarks.md).
WORKERS ?= 2
WORKER_THREADS ?=

.PHONY: run test lint setup neo4j-start neo4j-stop neo4j-test-start neo4j-test-stop postgres-start postgres-stop demo bench load bench-ingestion

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

neo4j-start:
	scripts/neo4j start dev

neo4j-stop:
	scripts/neo4j stop dev

neo4j-test-start:
	scripts/neo4j start test

neo4j-test-stop:
	scripts/neo4j stop test

# The local PostgreSQL (var/postgres, 127.0.0.1:$${LOOKALIKE_POSTGRES_PORT:-54329}) the tests and worker tests run on.
postgres-start:
	scripts/postgres start

postgres-stop:
	scripts/postgres stop

# The app runs in development mode (DEBUG on, media served by Django) on loopback.
run: export DJANGO_DEBUG = 1
run: setup neo4j-start
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_graph
	$(PY) manage.py ensure_admin
	$(PY) manage.py import_catalog $(DEMO_DATA)
	@# $(WORKERS) queue workers beside the web server; they stop with it (Ctrl-C reaches all, the trap waits).
	threads=$${LOOKALIKE_TORCH_THREADS:-$(WORKER_THREADS)}; \
	threads=$${threads:-$$(( $$(nproc) / $(WORKERS) > 0 ? $$(nproc) / $(WORKERS) : 1 ))}; \
	workers=; for n in $$(seq $(WORKERS)); do \
	  LOOKALIKE_TORCH_THREADS=$$threads $(PY) manage.py sync_worker & workers="$$workers $$!"; \
	done; \
	trap 'kill -TERM $$workers 2>/dev/null; wait $$workers' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST_PORT)

# Lint, format check and type check first: they take seconds, the suite minutes.
lint: export DJANGO_SECRET_KEY = lint-only-not-secret
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Unit tests on SQLite (with the pages and admin `make run` serves on it: marker `also_sqlite`), then the
# integration tests and the queue's worker tests (marker `postgres`) on the local PostgreSQL, the database a
# shop runs in production. Exit status 5 is "no test selected" (a PYTEST_ARGS subset). PYTEST_MARKS narrows
# both passes (e.g. PYTEST_MARKS="not browser"); a `-m` in PYTEST_ARGS would replace their selection.
and_marks = $(if $(PYTEST_MARKS), and ($(PYTEST_MARKS)))
test: export LOOKALIKE_NEO4J_INSTANCE = test
test: export DJANGO_SECRET_KEY = test-only-not-secret
test: lint neo4j-test-start postgres-start
	$(PY) -m pytest -m "(not integration or also_sqlite)$(and_marks)" $(PYTEST_ARGS) || test $$? = 5
	LOOKALIKE_DATABASE=local-postgres $(PY) -m pytest -m "(integration or postgres)$(and_marks)" $(PYTEST_ARGS) || test $$? = 5

# Benchmarks (not tests): embedding throughput, then search latency/recall on the separate bench Neo4j
# (127.0.0.1:7689, cleared and filled with 10k then 100k photo-like images; ~30 minutes on a busy machine), then the
# search request end to end, SIMILAR_TO upkeep and retrieval quality on the demo photos (about 8 minutes).
bench: setup
	$(PY) -m benchmarks.embedding_throughput --count 128 --batch-sizes 1,2,4,8,32
	scripts/neo4j start bench
	LOOKALIKE_NEO4J_INSTANCE=bench DJANGO_DEBUG=1 $(PY) -m benchmarks.search_latency --sizes 10000,100000
	LOOKALIKE_NEO4J_INSTANCE=bench $(PY) -m benchmarks.search_request --dataset $(DEMO_DATA)
	LOOKALIKE_NEO4J_INSTANCE=bench $(PY) -m benchmarks.similarity_graph
	LOOKALIKE_NEO4J_INSTANCE=bench $(PY) -m benchmarks.retrieval_quality --dataset $(DEMO_DATA)

# Load test (not a test): gunicorn + production settings on loopback, the demo catalog, the bench Neo4j.
load: setup
	$(PY) -m benchmarks.load $(LOAD_ARGS)
