#!/usr/bin/env bash
# Checks the tools the build needs and installs what is missing.
#
#   scripts/ensure-tools.sh            cargo, node + npm, frontend dependencies (npm ci)
#   scripts/ensure-tools.sh --browser  also Chromium for the browser tests (apt-get when root)
#   scripts/ensure-tools.sh --proxy    also Caddy, the reverse proxy the multi-instance test runs
#                                      in front of the backends (apt-get when root)
#
# PostgreSQL is handled by scripts/db.sh.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_NAME=tools

FRONTEND="$ROOT/frontend"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

CADDY=/usr/bin/caddy

want_browser=0
want_proxy=0
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=1 ;;
        --proxy) want_proxy=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--browser] [--proxy]" >&2; exit 2 ;;
    esac
done

# Rust ------------------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 \
    || die "cargo not found. Install the Rust toolchain (https://rustup.rs) and make sure ~/.cargo/bin is on PATH."

# Node -----------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node not found. Install Node.js 20.19 or newer (with npm)."
command -v npm >/dev/null 2>&1 || die "npm not found. Install npm alongside Node.js."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
    die "Node.js $(node --version) is too old; the frontend needs Node.js 20.19 or newer."
fi

# Frontend dependencies -------------------------------------------------------------------------
if [[ ! -f "$FRONTEND/package.json" ]]; then
    log "frontend/package.json not found; skipping frontend dependencies"
elif [[ ! -f "$FRONTEND/package-lock.json" ]]; then
    log "frontend/package-lock.json missing; running npm install"
    npm --prefix "$FRONTEND" install --no-audit --no-fund </dev/null
else
    # npm writes node_modules/.package-lock.json on every install: it marks the installed state.
    marker="$FRONTEND/node_modules/.package-lock.json"
    if [[ ! -f "$marker" ]]; then
        log "installing frontend dependencies (npm ci)"
        npm --prefix "$FRONTEND" ci --no-audit --no-fund </dev/null
    elif [[ "$FRONTEND/package-lock.json" -nt "$marker" ]]; then
        log "frontend/package-lock.json changed; reinstalling dependencies (npm ci)"
        npm --prefix "$FRONTEND" ci --no-audit --no-fund </dev/null
    fi
fi

# Browser ---------------------------------------------------------------------------------------
if (( want_browser )); then
    if [[ ! -x "$CHROMIUM" ]]; then
        apt_install chromium fonts-liberation
        [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM not found"
    fi
fi

# Reverse proxy ---------------------------------------------------------------------------------
if (( want_proxy )); then
    if [[ ! -x "$CADDY" ]]; then
        apt_install caddy
        [[ -x "$CADDY" ]] || die "caddy installed but $CADDY not found"
    fi
fi

exit 0
