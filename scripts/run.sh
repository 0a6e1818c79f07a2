#!/usr/bin/env bash
# `make run`: everything needed to use the app locally, from a fresh clone.
#
# Installs what is missing, starts the project-local PostgreSQL (unless DATABASE_URL is set),
# builds the SPA and the backend, runs migrations and serves on http://$APP_HOST:$APP_PORT.
# RELEASE=1 builds the backend with optimisations (slower to build).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_NAME=run
cd "$ROOT"

step() { printf '\n==> %s\n' "$*" >&2; }

step "checking tools"
bash scripts/ensure-tools.sh

if [[ -z "${DATABASE_URL:-}" ]]; then
    step "starting the local database"
    DATABASE_URL="$(local_database_url)"
else
    step "using DATABASE_URL from the environment"
fi
export DATABASE_URL

export APP_HOST="${APP_HOST:-127.0.0.1}"
export APP_PORT="${APP_PORT:-8080}"
export DATA_DIR="${DATA_DIR:-$ROOT/.data}"
mkdir -p "$DATA_DIR"

if has_npm_script build; then
    step "building the SPA"
    npm --prefix frontend run build </dev/null
    export STATIC_DIR="${STATIC_DIR:-$ROOT/frontend/dist}"
else
    step "no frontend build script yet; serving the API only"
fi

if [[ "${RELEASE:-0}" == 1 ]]; then
    step "building the backend (release)"
    cargo build --release -p warm-transfer
    BIN="$(target_dir)/release/warm-transfer"
else
    step "building the backend (debug; RELEASE=1 for an optimised build)"
    cargo build -p warm-transfer
    BIN="$(target_dir)/debug/warm-transfer"
fi
[[ -x "$BIN" ]] || die "backend binary not found at $BIN"

# A clear message beats a bind error deep in the server log.
if ! port_free "$APP_PORT" "$APP_HOST"; then
    die "$APP_HOST:$APP_PORT is already in use; stop the other program or run: APP_PORT=8090 make run"
fi

step "running migrations"
"$BIN" migrate

step "serving on http://$APP_HOST:$APP_PORT (Ctrl-C to stop)"
exec "$BIN" serve
