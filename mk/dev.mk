# Local development targets, included by the root Makefile (which provides `install` and makes `up`
# depend on it).
#
#   make up                  PostgreSQL, NATS and every service on this machine; Ctrl-C stops it all
#                            (whatever crashes, PostgreSQL and nats-server too, is restarted with back-off)
#   make reset               delete all local data (.brigade/ or $BRIGADE_HOME); refused while `up` runs
#   make token [ROLE=staff|admin] [AS=alice]   sign in through the stack's auth service: an access token
#                            (the demo customer by default; AS=alice signs alice@example.com up on first use)
#   make logs                follow every service's log file
#   make dlq [ARGS="…"]      the dead-letter stream: list (default), show SEQ, replay SEQ… | --consumer NAME
#                            [--error TEXT] [--dry-run], drop SEQ… (`make dlq ARGS=--help`)
#   make reconcile           check the saga's invariants over the HTTP APIs of `make up`
#                            (another deployment: RECONCILE_ARGS="--url https://… --token …")
#   make mail [ARGS=N]       the mail `make up`'s SMTP catcher kept (.brigade/mail/): list, or show
#                            message N (ARGS="N --html" for its HTML part)
#
# Ports: BRIGADE_PG_PORT (5433), BRIGADE_NATS_PORT (4222), BRIGADE_MAIL_PORT (1025, the mail catcher),
# <SVC>_HTTP_PORT (web 8080, kitchen 8001…).
# NATS_URL=nats://… uses that server instead of starting one.

# Keep whichever default goal the including Makefile has (or will have).
_dev_mk_default_goal := $(.DEFAULT_GOAL)

DEVSTACK ?= $(or $(UV),uv) run --frozen python -m brigade_devstack
BRIGADE_LOGS = $(or $(BRIGADE_HOME),.brigade)/logs
WEB_FRONTEND := services/web/frontend
WEB_FRONTEND_SOURCES := $(shell find $(WEB_FRONTEND) \( -name node_modules -o -name dist \) -prune \
	-o -type f -print 2>/dev/null)

.PHONY: up reset token logs dlq reconcile mail web-frontend web-check

up: web-frontend
	$(DEVSTACK) up

reset:
	$(DEVSTACK) reset

# AS is also make's built-in name for the assembler: only a value given by the user counts.
_dev_token_as = $(if $(filter command line environment%,$(origin AS)),--as '$(AS)')

token:
	@$(DEVSTACK) token $(_dev_token_as) $(if $(ROLE),--role '$(ROLE)')

logs:
	@ls $(BRIGADE_LOGS)/*.log >/dev/null 2>&1 || { echo "no logs in $(BRIGADE_LOGS) yet: run make up" >&2; exit 1; }
	tail -n 20 -F $(BRIGADE_LOGS)/*.log

# The local stack's NATS unless NATS_URL names another; e.g. make dlq ARGS="replay --consumer kitchen-supply --dry-run"
DLQ_NATS_URL = $(or $(NATS_URL),nats://127.0.0.1:$(or $(BRIGADE_NATS_PORT),4222))

dlq:
	@$(or $(UV),uv) run --frozen python -m brigade_common.dlq --nats-url '$(DLQ_NATS_URL)' $(or $(ARGS),list)

# Exit 0 when every invariant holds, 1 when one does not, 2 when the APIs cannot be read.
reconcile:
	@$(DEVSTACK) reconcile $(RECONCILE_ARGS)

mail:
	@$(DEVSTACK) mail $(ARGS)

# The app is rebuilt only when its sources changed; without Node the gateway serves a "not built" page.
web-frontend: $(WEB_FRONTEND)/dist/index.html

$(WEB_FRONTEND)/dist/index.html: $(WEB_FRONTEND_SOURCES)
	@if command -v npm >/dev/null 2>&1; then \
		cd $(WEB_FRONTEND) && npm ci --no-audit --no-fund && npm run build; \
	else \
		echo "warning: npm not found, the web app is not built (install Node.js 18+)" >&2; \
	fi

# The app's type-check and unit tests (Vitest); installs its node_modules from the lock file when they
# are missing or older than it. Without npm it says so and passes (like web-frontend).
web-check:
	@if command -v npm >/dev/null 2>&1; then \
		cd $(WEB_FRONTEND) && \
		{ [ -f node_modules/.package-lock.json ] && [ ! node_modules/.package-lock.json -ot package-lock.json ] || npm ci --no-audit --no-fund; } && \
		npm run --silent typecheck && npm test --silent; \
	else \
		echo "warning: npm not found, the web app's checks are skipped (install Node.js 20+)" >&2; \
	fi

.DEFAULT_GOAL := $(_dev_mk_default_goal)
