# newsflow: `make run` processes seeds/ in-process; `make test` runs the test suite.
# Each target creates .venv and installs the project into it first, so a fresh clone with only
# Python 3.11 and pip needs nothing else.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install lock run test unit integration lint bench up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## create .venv and install newsflow with its dev tools

# --unsafe-package: the `all` extra names the project itself, and the lock must not pin a
# path on this machine (make install adds the project in editable mode); setuptools and pip
# stay the installer's own, as pip-compile leaves them by default.
LOCK := $(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	--unsafe-package newsflow --unsafe-package setuptools --unsafe-package pip

lock: $(STAMP) ## recompile requirements/*.txt from pyproject.toml (exact versions, all dependencies)
	$(LOCK) --extra all --output-file requirements/all.txt pyproject.toml
	@# Each image's lock is the full lock cut down to that stage's extras: one version of each
	@# package across every image, the tests and CI. The index and the API open PostgreSQL.
	for extras in ingest enrich index,postgres api,postgres; do \
		$(LOCK) $$(echo $$extras | sed 's/[^,]*/--extra &/g; s/,/ /g') --constraint requirements/all.txt \
			--output-file requirements/$${extras%%,*}.txt pyproject.toml || exit 1; \
	done
	$(LOCK) --extra all --extra dev --constraint requirements/all.txt \
		--output-file requirements/dev.txt pyproject.toml

run: $(STAMP) ## process seeds/ in-process (no servers) and print the table
	$(BIN)/newsflow run seeds/

# One pytest process per core; --dist loadfile keeps a file's tests in one process, so a
# module's worker processes (one pipeline per file) start once and the files share nothing.
PARALLEL := -n auto --dist loadfile

test: $(STAMP) ## run every test (integration tests need Redis on 127.0.0.1:6379)
	$(BIN)/pytest $(PARALLEL)

unit: $(STAMP) ## unit tests only
	$(BIN)/pytest $(PARALLEL) tests/unit

integration: $(STAMP) ## integration tests only (real Redis, real workers)
	$(BIN)/pytest $(PARALLEL) tests/integration

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check shared services newsflow tests bench
	$(BIN)/mypy

bench: $(STAMP) ## pipeline throughput, in-process and through Redis
	$(BIN)/python bench/pipeline.py

COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

# The secrets with no safe default: compose refuses to start without them too, but only after
# naming one at a time in its own words; this names them all, and where to set them.
SECRETS := GRAFANA_ADMIN_PASSWORD POSTGRES_PASSWORD NEWSFLOW_API_TOKEN FLOWER_BASIC_AUTH

up: ## start the whole stack with Docker (needs .env with the passwords and NEWSFLOW_API_TOKEN)
	@test -f .env || { echo "copy .env.example to .env and set $(SECRETS) in it first"; exit 1; }
	@missing=""; for name in $(SECRETS); do \
		value=$$(printenv $$name || sed -n "s/^$$name=//p" .env | tail -n 1); \
		[ -n "$$value" ] || missing="$$missing $$name"; \
	done; \
	[ -z "$$missing" ] || { echo "set$$missing in .env (empty in .env.example on purpose)"; exit 1; }
	mkdir -p drop
	@# The watcher must run as the owner of ./drop to move files in it (README, "Drop folder").
	@export NEWSFLOW_UID=$${NEWSFLOW_UID:-$$(sed -n 's/^NEWSFLOW_UID=//p' .env | tail -n 1)}; \
	export NEWSFLOW_GID=$${NEWSFLOW_GID:-$$(sed -n 's/^NEWSFLOW_GID=//p' .env | tail -n 1)}; \
	export NEWSFLOW_UID=$${NEWSFLOW_UID:-$$(stat -c %u drop 2>/dev/null || stat -f %u drop)}; \
	export NEWSFLOW_GID=$${NEWSFLOW_GID:-$$(stat -c %g drop 2>/dev/null || stat -f %g drop)}; \
	echo "$(COMPOSE) up --build -d  (the watcher runs as $$NEWSFLOW_UID:$$NEWSFLOW_GID)"; \
	$(COMPOSE) up --build -d
	@echo "Grafana: http://localhost:$${GRAFANA_PORT:-3000}  Prometheus: http://localhost:$${PROMETHEUS_PORT:-9090}"

down: ## stop the stack (volumes are kept; `$(COMPOSE) down -v` drops them)
	$(COMPOSE) down

clean: ## remove the virtualenv and the local index
	rm -rf $(VENV) newsflow.db newsflow.db-wal newsflow.db-shm
