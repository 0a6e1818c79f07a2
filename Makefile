# Warm Transfer. The logic lives in scripts/; these targets are entry points.
#   make run    install what is missing, start the local DB, build, migrate, serve on :8080
#   make test   every test suite against a real PostgreSQL, with a summary
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

.PHONY: help run test e2e bench db db-stop openapi clean clean-data

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

run: ## build everything and serve on http://127.0.0.1:8080 (RELEASE=1, APP_PORT=...)
	bash scripts/run.sh

test: ## all tests (rust, openapi drift, frontend, browser e2e) with a summary
	bash scripts/test.sh

e2e: ## browser end-to-end tests only (builds the SPA first)
	bash scripts/test.sh frontend-build e2e

bench: ## load figures: webhook/API throughput and p50/p99, routing run on two instances, live events on 2,000 streams
	bash scripts/bench.sh

db: ## start the project-local PostgreSQL and print its DATABASE_URL
	bash scripts/db.sh start

db-stop: ## stop the project-local PostgreSQL
	bash scripts/db.sh stop

openapi: ## regenerate openapi.yaml from the code
	cargo run -q -p warm-transfer -- openapi > openapi.yaml.tmp
	mv openapi.yaml.tmp openapi.yaml

clean: ## delete build output and frontend dependencies (keeps .data)
	cargo clean
	rm -rf frontend/dist frontend/node_modules

clean-data: ## stop the local PostgreSQL and delete .data (all local data)
	bash scripts/db.sh stop || true
	rm -rf .data
