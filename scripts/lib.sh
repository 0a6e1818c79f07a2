# shellcheck shell=bash
# Helpers shared by the scripts in this folder. Source it, don't run it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   LOG_NAME=db          # prefix of log/die messages (default: the script's name without .sh)
#   DIE_STATUS=2         # exit status of die (default 1)
#
# Sets ROOT (the checkout, symlinks resolved). Changes nothing else: each script keeps its own
# `set -euo pipefail` and decides whether to cd "$ROOT".

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOG_NAME="$(basename "$0" .sh)"
DIE_STATUS=1

# Messages go to stderr: several scripts print a result (a URL) on stdout.
log() { printf '%s: %s\n' "$LOG_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$LOG_NAME" "$*" >&2; exit "$DIE_STATUS"; }

# ---------------------------------------------------------------------------------------------
# Packages and tools

# apt-get install PACKAGE... (root only), output on stderr.
apt_install() {
    if [[ $EUID -ne 0 ]]; then
        die "missing package(s): $*. Install them as root: apt-get install -y $*"
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing package(s) $* and apt-get is unavailable"
    export DEBIAN_FRONTEND=noninteractive
    log "installing $* with apt-get"
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2 || die "apt-get install $* failed"
}

# The PostgreSQL bin directories of the Debian layout, lowest major version first.
pg_bin_dirs() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n
}

# Path of psql: on PATH, else the highest version's under /usr/lib/postgresql; dies without one.
find_psql() {
    local dir found
    found="$(command -v psql 2>/dev/null || true)"
    if [[ -z "$found" ]]; then
        for dir in $(pg_bin_dirs); do
            [[ -x "$dir/psql" ]] && found="$dir/psql"
        done
    fi
    [[ -n "$found" ]] || die "psql not found (install the PostgreSQL client)"
    echo "$found"
}

# True when nothing listens on PORT at HOST (default 127.0.0.1).
port_free() {
    local port="$1" host="${2:-127.0.0.1}"
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$host" "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
        return
    fi
    # Fallback: a port is taken if something accepts a connection on it.
    ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# cargo's output directory (CARGO_TARGET_DIR when set).
target_dir() { echo "${CARGO_TARGET_DIR:-$ROOT/target}"; }

# True when frontend/package.json defines the npm script NAME.
has_npm_script() {
    [[ -f "$ROOT/frontend/package.json" ]] || return 1
    node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
             process.exit(p.scripts && p.scripts[process.argv[2]] ? 0 : 1)' \
        "$ROOT/frontend/package.json" "$1"
}

# ---------------------------------------------------------------------------------------------
# Database server

# Starts the project-local PostgreSQL (scripts/db.sh start) and prints its URL.
local_database_url() {
    local out url
    out="$(bash "$ROOT/scripts/db.sh" start)" || die "scripts/db.sh start failed"
    url="$(sed -n 's/^DATABASE_URL=//p' <<<"$out" | tail -n1)"
    [[ "$url" == postgres://* ]] || die "scripts/db.sh start did not print a DATABASE_URL"
    echo "$url"
}

# URL on the same server as URL, database NAME.
database_on() { echo "${1%/*}/$2"; }

# URL with its password replaced by ***, for messages.
redact_url() { sed -E 's#^([a-z]+://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# psql URL ARGS...: quiet, no ~/.psqlrc, stops at the first error.
psql_url() {
    local url="$1"; shift
    PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}" "${PSQL:-psql}" -X -q -v ON_ERROR_STOP=1 -d "$url" "$@"
}

# drop_database ADMIN_URL NAME. WITH (FORCE): a killed server's connections may still be closing.
drop_database() {
    psql_url "$1" -c "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" >/dev/null 2>&1
}
