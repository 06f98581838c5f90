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

.PHONY: help install test lint typecheck unit docs catalog bench bench-signin bench-live bench-menu bench-footprint load clean

help:
	@echo "make up         run PostgreSQL, NATS and every service locally (http://localhost:8080)"
	@echo "make test       lint, type-check and run every test against real servers"
	@echo "make token      sign in through auth and print an access token (ROLE=staff|admin, AS=alice)"
	@echo "make reset      wipe local data (.brigade/)"
	@echo "make reconcile  check the saga's invariants over the HTTP APIs (RECONCILE_ARGS=\"--url … --token …\")"
	@echo "make bench      measure the order path and write docs/benchmarks.md"
	@echo "make bench-signin   sign-in per second and argon2id per core: its section of docs/benchmarks.md"
	@echo "make bench-menu     the menu's reads through the KV cache, on and off: its section of docs/benchmarks.md"
	@echo "make bench-footprint  resident memory of the whole local stack, idle and under load, and what it is made of"
	@echo "                     (FOOTPRINT_ARGS=\"--baseline DIR\": another checkout's services in alternate rounds)"
	@echo "make load       locust against a local stack it starts (or LOAD_HOST=http://localhost:8080);"
	@echo "                records the figures in docs/benchmarks.md (LOAD_USERS, LOAD_DURATION_S, ...)"
	@echo "                LOAD_OUTAGE_S=60: kill PostgreSQL for 60 s under the load, measure the recovery"
	@echo "make dlq        the dead-letter stream: list, show SEQ, replay (ARGS=\"replay --consumer NAME\")"
	@echo "make docs       regenerate docs/events.md from the message contracts"
	@echo "make catalog    rewrite the files derived from the service catalog (routes, chart, skaffold, base image)"
	@echo "make kind-up, make dev      a kind cluster, then skaffold dev (docs/kubernetes.md)"
	@echo "make test-images            build the images with Docker or Podman and run the charts on them"
	@echo "make test-cluster           tests/cluster, the order journey included, against the current kube context"

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

# The `load` group (locust) too: tests/load runs the locustfile in `make test`, and `uv sync` would
# otherwise remove what is not asked for. The browser tests drive Debian's Chromium (Playwright's own
# download is out of reach): installed with apt when missing and root, otherwise a warning says how.
install: | $(UV)
	$(UV) sync --frozen --all-packages --group load
	@bash scripts/install-chromium.sh

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check libs services tools tests

# Every workspace member's sources: a new service is type-checked as soon as its folder exists.
typecheck: install
	$(UV) run --frozen mypy $(wildcard libs/*/src services/*/src tools/*/src)

docs: install
	$(UV) run --frozen python -m brigade_contracts.docs > docs/events.md

# routes.yaml, the charts' catalog.yaml and roles.yaml, skaffold's artifacts and Dockerfile.base's
# manifests, from every service's definition.py (tests/test_catalog.py fails when one drifts).
catalog: install
	$(UV) run --frozen python -m brigade_devstack catalog

# web-frontend (mk/dev.mk): the browser tests (tests/browser) drive the built app.
# control-plane (mk/k8s.mk): tests/cluster installs the charts into a real API server on loopback.
test: install helm control-plane lint typecheck web-check web-frontend
	$(UV) run --frozen pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: install
	$(UV) run --frozen python -m tests.bench

# Sign-in per second and p50/p99 at 1 and 16 clients, argon2id per core: the `signin` section.
bench-signin: install
	$(UV) run --frozen python -m tests.bench.signin

# The live feed: latency at 1/100/1000 WebSocket clients, memory per connection, catch-up rate.
bench-live: install
	$(UV) run --frozen python -m tests.bench.live

# The menu's reads, cache on and off, the hit rate and the propagation bound: the `menu` section.
bench-menu: install
	$(UV) run --frozen python -m tests.bench.menu

# RSS/PSS/USS of every process of the local stack at idle and under locust: the `footprint` section.
bench-footprint: install
	$(UV) run --frozen python -m tests.bench.footprint $(FOOTPRINT_ARGS)

# Flags go through LOAD_ARGS (e.g. LOAD_ARGS="--users 20 --duration 30"), or set LOAD_* variables.
load: install
	$(UV) run --frozen python -m tests.load $(LOAD_ARGS)

-include mk/dev.mk
-include mk/k8s.mk

up: install
