# `make run` and `make test` work on a fresh clone: they create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

# docker-compose.yml against the Compose schema, interpolated from .env.example with the two
# required values filled in (Debian's docker-compose; no Docker engine needed).
COMPOSE_CONFIG = SECRET_KEY=compose-config POSTGRES_PASSWORD=compose-config \
	docker-compose --env-file .env.example config --quiet

.PHONY: install run demo-reset test test-newest lint bench dockerlint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# A taken port stops `make run` before anything changes; a second start keeps the admin password
# and the API client (`make demo-reset` sets new ones).
run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py port_free $(HOST) $(PORT)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo --port $(PORT)
	DEBUG=$${DEBUG:-1} $(BIN)/gunicorn config.wsgi --config gunicorn.conf.py --bind $(HOST):$(PORT) --workers $(WORKERS)

demo-reset: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo --reset --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null
	$(BIN)/python manage.py graphql_schema --check > /dev/null
	$(BIN)/python manage.py api_reference --check > /dev/null
	$(BIN)/hadolint Dockerfile
	$(COMPOSE_CONFIG)
	$(BIN)/python -m pytest

# The suite on the newest Django (pyproject.toml stays on the LTS): its own Python and venv.
NEWEST_PYTHON ?= $(HOME)/.pyenv/versions/3.12.1/bin/python
NEWEST_DJANGO ?= Django>=6.1,<6.2
NEWEST_VENV ?= .venv-django61

$(NEWEST_VENV)/.installed: pyproject.toml .ci/newest_requirements.py
	$(NEWEST_PYTHON) -m venv $(NEWEST_VENV)
	$(NEWEST_VENV)/bin/pip install --quiet --upgrade pip
	$(NEWEST_VENV)/bin/python .ci/newest_requirements.py "$(NEWEST_DJANGO)" > $(NEWEST_VENV)/requirements.txt
	$(NEWEST_VENV)/bin/pip install --quiet -r $(NEWEST_VENV)/requirements.txt
	$(NEWEST_VENV)/bin/python .ci/newest_requirements.py --capped > $(NEWEST_VENV)/capped.txt
	$(NEWEST_VENV)/bin/pip install --quiet --no-deps -r $(NEWEST_VENV)/capped.txt
	$(NEWEST_VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

test-newest: $(NEWEST_VENV)/.installed
	$(NEWEST_VENV)/bin/python -m django --version
	$(NEWEST_VENV)/bin/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(COMPOSE_CONFIG)

dockerlint: install
	$(BIN)/hadolint Dockerfile
	$(COMPOSE_CONFIG)

bench: install
	$(BIN)/python -m tests.perf

clean:
	rm -rf $(VENV) $(NEWEST_VENV) db.sqlite3 staticfiles
