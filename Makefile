# The project's commands. Each target is a line or two; the work lives in scripts/.
.PHONY: help deps build test contract chaos check-deploy compose-env k8s-secrets fmt up down clean-data loadtest bench demo

CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: ## install (apt) and start PostgreSQL and Redis on loopback when needed
	@bash scripts/deps.sh

build: ## build every binary in release mode
	cargo build --release --workspace --bins

test: deps ## format check, clippy, every test (real PostgreSQL, Redis, Prometheus), contracts, deploy checks, chaos
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	bash scripts/nextest.sh --workspace --exclude e2e
	bash scripts/contract.sh  # every service fuzzed against its /openapi.json
	bash scripts/check-deploy.sh
	bash scripts/nextest.sh -p e2e --test platform  # alone: it measures CPU, other tests would blur it
	bash scripts/chaos.sh  # alone too: it kills and pauses processes on a timetable

contract: deps ## fuzz every service against its /openapi.json with schemathesis (a platform of its own)
	@bash scripts/contract.sh

chaos: deps ## faults under load (kill -9, Redis loss and pause, PostgreSQL restart, disconnects), then invariants
	@bash scripts/chaos.sh

check-deploy: ## check Dockerfile, compose, k8s and monitoring files offline with the real tools
	bash scripts/check-deploy.sh

compose-env: ## write .env (random passwords and AUTH_SECRET) for docker compose; FORCE=1 replaces it
	@bash scripts/compose-env.sh

k8s-secrets: ## write k8s/secrets/*.env (random passwords and AUTH_SECRET) for `kubectl apply -k k8s/secrets`
	@bash scripts/k8s-secrets.sh

fmt: ## format the code
	cargo fmt --all

up: deps build ## start the platform natively on loopback
	@bash scripts/up.sh

down: ## stop what `make up` started (data is kept)
	@bash scripts/down.sh

clean-data: down ## drop the services' databases and Redis keys
	@bash scripts/clean-data.sh

loadtest: ## a two-minute burst against the platform `make up` started
	@bash scripts/loadtest.sh

bench: deps build ## benchmark a platform of its own and print the figures
	@bash scripts/bench.sh

demo: up ## start the platform, burst it, show forecasts, decisions and costs
	@bash scripts/demo.sh
