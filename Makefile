# Brigade: `make up` runs the system on this machine, `make test` runs everything a change must pass.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv is the only tool installed by hand; it comes from PyPI like everything else.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(HOME)/.local/bin/uv
endif
export UV_PYTHON_PREFERENCE ?= only-system
export PATH := $(dir $(UV)):$(PATH)

PYTEST_ARGS ?=

.PHONY: help install test lint typecheck unit docs bench load clean

help:
	@echo "make up         run PostgreSQL, NATS and every service locally (http://localhost:8080)"
	@echo "make test       lint, type-check and run every test against real servers"
	@echo "make token      print a dev JWT (ROLE=staff, AS=alice)"
	@echo "make reset      wipe local data (.brigade/)"
	@echo "make bench      measure the order path and write docs/benchmarks.md"
	@echo "make docs       regenerate docs/events.md from the message contracts"

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: | $(UV)
	$(UV) sync --frozen --all-packages

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check libs services tools tests

typecheck: install
	$(UV) run --frozen mypy libs/common/src libs/contracts/src services/kitchen/src services/warehouse/src \
		services/market/src services/web/src tools/devstack/src

docs: install
	$(UV) run --frozen python -m brigade_contracts.docs > docs/events.md

test: install helm lint typecheck
	$(UV) run --frozen pytest -n 2 --dist loadgroup --ignore=tests/cluster $(PYTEST_ARGS)

bench: install
	$(UV) run --frozen python -m tests.bench

-include mk/dev.mk
-include mk/k8s.mk

up: install
