# One entry point for developers and CI (.ci/run calls `make test`).
# CARGO_TARGET_DIR may be set in the environment or on the command line to share a build dir.

CARGO ?= cargo
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR

.PHONY: all setup build test test-fast test-localstack-plugin lint fmt bench up down ci

all: build

## setup: install missing system packages (PostgreSQL, Redis, curl, wrk, nginx); fast when present
setup:
	bash scripts/setup

## build: every crate, binary and test target (end-to-end tests run the built binaries)
build:
	$(CARGO) build --workspace --all-targets

## test: setup, build, LocalStack (installed on first use), then the whole workspace's tests
## against real PostgreSQL, Redis and LocalStack
test: setup build localstack-start
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory test-localstack-plugin

## test-localstack-plugin: our LocalStack plugin's own tests (fault injection), against the running
## LocalStack, with LocalStack's Python and the plugin's sources
test-localstack-plugin:
	bash localstack/install
	PYTHONPATH=localstack/plugin FAULTS_REQUIRED=1 LOCALSTACK_ENDPOINT=$${LOCALSTACK_ENDPOINT:-http://127.0.0.1:$${LOCALSTACK_PORT:-4566}} \
		localstack/.venv/bin/python -m unittest discover -s localstack/plugin/tests

## test-fast: the tier to run while editing: unit tests and the tests against real PostgreSQL and
## Redis (gateway, provisioner, the harness); no LocalStack, no end-to-end deploy
## (both select the whole workspace, so features resolve as in `build` and nothing is rebuilt)
test-fast: setup
	$(CARGO) test --workspace --exclude stack-tests
	$(CARGO) test --workspace --test harness

## ci: what .ci/run runs after installing: lint, then every test
ci: lint test

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## fmt: format the workspace
fmt:
	$(CARGO) fmt --all

## bench: run the benchmarks (bench/run), when there are any
bench:
	@if [ -f bench/run ]; then bash bench/run; else echo "bench: no bench/run yet"; fi

## up: the quick start: `provision up --stack local` (LocalStack + the data plane on this machine),
## then a request through the gateway
up:
	bash scripts/up

## down: `provision destroy --stack local`: everything `make up` made and started
down:
	bash scripts/up down

.PHONY: localstack-start localstack-stop localstack-status localstack-check

## localstack-start: install (first time) and start LocalStack on 127.0.0.1:4566 without Docker;
## with LOCALSTACK_ENDPOINT set, only checks that endpoint (see localstack/README.md)
localstack-start:
	bash localstack/start

## localstack-stop: stop the LocalStack that localstack-start began
localstack-stop:
	bash localstack/stop

## localstack-status: is LocalStack healthy, and which needed services are usable (non-zero if not)
localstack-status:
	bash localstack/status

## localstack-check: smoke test of the endpoint: create, read back and delete a whole stack's resources
localstack-check:
	bash localstack/check
