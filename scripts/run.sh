#!/usr/bin/env bash
# `make run`: everything needed to use the app locally, from a fresh clone.
#
# Installs what is missing, starts the project-local PostgreSQL (unless DATABASE_URL is set),
# builds the SPA and the backend, runs migrations and serves on http://$APP_HOST:$APP_PORT.
# RELEASE=1 builds the backend with optimisations (slower to build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'run: error: %s\n' "$*" >&2; exit 1; }

log "checking tools"
bash scripts/ensure-tools.sh

if [[ -z "${DATABASE_URL:-}" ]]; then
    log "starting the local database"
    line="$(bash scripts/db.sh start)"
    DATABASE_URL="${line#DATABASE_URL=}"
    [[ "$DATABASE_URL" == postgres://* ]] || die "scripts/db.sh start did not print a DATABASE_URL"
else
    log "using DATABASE_URL from the environment"
fi
export DATABASE_URL

export APP_HOST="${APP_HOST:-127.0.0.1}"
export APP_PORT="${APP_PORT:-8080}"
export DATA_DIR="${DATA_DIR:-$ROOT/.data}"
mkdir -p "$DATA_DIR"

if [[ -f frontend/package.json ]] && (cd frontend && node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'); then
    log "building the SPA"
    npm --prefix frontend run build </dev/null
    export STATIC_DIR="${STATIC_DIR:-$ROOT/frontend/dist}"
else
    log "no frontend build script yet; serving the API only"
fi

if [[ "${RELEASE:-0}" == 1 ]]; then
    log "building the backend (release)"
    cargo build --release -p warm-transfer
    BIN="$ROOT/target/release/warm-transfer"
else
    log "building the backend (debug; RELEASE=1 for an optimised build)"
    cargo build -p warm-transfer
    BIN="$ROOT/target/debug/warm-transfer"
fi
# Honour a custom cargo target directory.
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
    BIN="$CARGO_TARGET_DIR/$(basename "$(dirname "$BIN")")/warm-transfer"
fi
[[ -x "$BIN" ]] || die "backend binary not found at $BIN"

# A clear message beats a bind error deep in the server log.
if command -v python3 >/dev/null 2>&1 && ! python3 - "$APP_HOST" "$APP_PORT" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
PY
then
    die "$APP_HOST:$APP_PORT is already in use; stop the other program or run: APP_PORT=8090 make run"
fi

log "running migrations"
"$BIN" migrate

log "serving on http://$APP_HOST:$APP_PORT (Ctrl-C to stop)"
exec "$BIN" serve
