#!/usr/bin/env bash
# Project-local PostgreSQL for development and tests.
#
#   scripts/db.sh start    create the cluster under .data/pg if needed, start it, create the
#                          database; prints DATABASE_URL=... on stdout (messages go to stderr)
#   scripts/db.sh stop     stop the server (no-op when stopped)
#   scripts/db.sh status   print state; exit 0 when running, 3 otherwise
#   scripts/db.sh url      print the database URL only
#   scripts/db.sh reset    stop the server and delete the cluster (all local data)
#
# The cluster listens on 127.0.0.1 only, on a port picked on first start (54329 upward) and kept
# in .data/pg/PORT. Superuser `warm`, password `warm` (scram-sha-256 over TCP; trust on the unix
# socket inside .data/pg). Run as root, the server runs as the `postgres` system user (initdb
# refuses root); otherwise as the invoking user.
#
# This cluster is for development and tests only: fsync is off for speed. `make clean-data`
# (or `scripts/db.sh reset`) starts over.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_NAME=db

PG_ROOT="$ROOT/.data/pg"
PGDATA_DIR="$PG_ROOT/data"
SOCK_DIR="$PG_ROOT/run"
PORT_FILE="$PG_ROOT/PORT"
LOG_FILE="$PG_ROOT/log"
LOCK_FILE="$PG_ROOT/.lock"
CONF_NAME="warm-transfer.conf"

DB_USER="warm"
DB_PASSWORD="warm"
DB_NAME="warm_transfer"
FIRST_PORT=54329
LAST_PORT=54429

# ---------------------------------------------------------------------------------------------
# PostgreSQL binaries

PG_BIN=""
find_pg_bin() {
    local dir best=""
    # Highest installed major version (Debian layout), then anything on PATH.
    for dir in $(pg_bin_dirs); do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] && best="$dir"
    done
    if [[ -z "$best" ]] && command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        best="$(dirname "$(command -v pg_ctl)")"
    fi
    PG_BIN="$best"
    [[ -n "$PG_BIN" ]]
}

ensure_pg_bin() {
    find_pg_bin && return 0
    if [[ $EUID -ne 0 ]]; then
        die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH).
    Install them (Debian: sudo apt-get install -y postgresql) or set DATABASE_URL to an existing server."
    fi
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL not found and apt-get is unavailable; install PostgreSQL or set DATABASE_URL"
    log "PostgreSQL not found; installing it with apt-get (takes a minute)..."
    apt_install postgresql
    find_pg_bin || die "postgresql installed but initdb/pg_ctl still not found under /usr/lib/postgresql/*/bin"
}

# ---------------------------------------------------------------------------------------------
# Running as the right OS user

AS_USER=""   # empty: run PostgreSQL commands as ourselves
choose_os_user() {
    [[ $EUID -eq 0 ]] || { AS_USER=""; return; }
    # Keep using whoever owns an existing cluster (e.g. created by a normal user), else postgres.
    if [[ -d "$PGDATA_DIR" ]]; then
        local owner
        owner="$(stat -c %U "$PGDATA_DIR")"
        if [[ "$owner" != "root" && "$owner" != "UNKNOWN" ]]; then AS_USER="$owner"; return; fi
    fi
    AS_USER="postgres"
    if ! id -u postgres >/dev/null 2>&1; then
        log "creating system user postgres"
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres \
            || die "could not create the postgres system user"
    fi
}

# Run a command as the cluster's OS user.
as_pg() {
    if [[ -z "$AS_USER" ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$AS_USER" -- "$@"
    else
        local q; printf -v q '%q ' "$@"
        su "$AS_USER" -s /bin/sh -c "$q"
    fi
}

# Make a directory that the cluster's OS user owns (only meaningful when we are root).
own_dir() {
    mkdir -p "$1"
    if [[ -n "$AS_USER" ]]; then chown "$AS_USER": "$1"; fi
    chmod "${2:-700}" "$1"
}

# As root the server runs as another user, which needs to traverse every parent of .data/pg.
check_traversal() {
    [[ -n "$AS_USER" ]] || return 0
    as_pg test -x "$PG_ROOT" 2>/dev/null && return 0
    local p="$PG_ROOT" blocked=""
    while [[ "$p" != "/" ]]; do
        if ! as_pg test -x "$p" 2>/dev/null; then blocked="$p"; fi
        p="$(dirname "$p")"
    done
    die "user '$AS_USER' cannot reach $PG_ROOT (blocked at ${blocked:-?}, permissions $(stat -c %A "${blocked:-$PG_ROOT}" 2>/dev/null)).
    PostgreSQL cannot run as root, so the data directory must be reachable by '$AS_USER'.
    Fix with: chmod o+x <each blocking parent directory>, move the checkout (e.g. under /srv or /tmp),
    or set DATABASE_URL to an existing server."
}

# ---------------------------------------------------------------------------------------------
# Ports

pick_port() {
    local port
    for ((port = FIRST_PORT; port <= LAST_PORT; port++)); do
        if port_free "$port"; then echo "$port"; return 0; fi
    done
    die "no free TCP port in $FIRST_PORT-$LAST_PORT on 127.0.0.1"
}

saved_port() { [[ -s "$PORT_FILE" ]] && tr -dc '0-9' <"$PORT_FILE"; }

# ---------------------------------------------------------------------------------------------
# Server state

# PID of our postmaster if it is really running, else nothing (and exit 1). Does not trust a
# postmaster.pid left behind by a crash: the PID may since belong to an unrelated process.
server_pid() {
    local pidfile="$PGDATA_DIR/postmaster.pid" pid
    [[ -r "$pidfile" ]] || return 1
    pid="$(head -n1 "$pidfile" 2>/dev/null | tr -dc '0-9')"
    [[ -n "$pid" && -d "/proc/$pid" ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]] || return 1
    # A killed postmaster may linger as a zombie when PID 1 does not reap (containers).
    local state
    state="$(sed -E 's/^.*\) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
    local cwd
    if cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" && [[ -n "$cwd" ]]; then
        [[ "$cwd" == "$(cd "$PGDATA_DIR" && pwd -P)" ]] || return 1
    fi
    echo "$pid"
}

# Port the running server listens on (line 4 of postmaster.pid), falling back to PORT.
running_port() {
    local p
    p="$(sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null | tr -dc '0-9')"
    [[ -n "$p" ]] && echo "$p" || saved_port
}

url_for() { echo "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$1/$DB_NAME"; }

psql_admin() {
    local port="$1"; shift
    PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres "$@"
}

# ---------------------------------------------------------------------------------------------
# Cluster setup

init_cluster() {
    log "creating PostgreSQL cluster in $PGDATA_DIR"
    own_dir "$PGDATA_DIR" 700
    local pwfile="$PG_ROOT/.pwfile"
    ( umask 077; printf '%s\n' "$DB_PASSWORD" >"$pwfile" )
    [[ -z "$AS_USER" ]] || chown "$AS_USER": "$pwfile"
    if ! as_pg env LC_ALL=C.UTF-8 "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$DB_USER" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$PG_ROOT/initdb.log" 2>&1; then
        rm -f "$pwfile"
        cat "$PG_ROOT/initdb.log" >&2
        rm -rf "$PGDATA_DIR"
        die "initdb failed (see above)"
    fi
    rm -f "$pwfile"
    # Our settings live in their own file so they can be rewritten (e.g. a new port) at each start.
    printf "\n# Settings for Warm Transfer's local cluster (rewritten by scripts/db.sh)\ninclude_if_exists = '%s'\n" \
        "$CONF_NAME" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

write_conf() {
    local port="$1" sockdirs="$SOCK_DIR"
    # Unix socket paths are limited to 107 bytes; in a deep checkout use TCP only.
    if (( ${#SOCK_DIR} + 20 > 107 )); then
        log "note: path too long for a unix socket; the server listens on TCP only"
        sockdirs=""
    fi
    as_pg tee "$PGDATA_DIR/$CONF_NAME" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdirs'
password_encryption = 'scram-sha-256'
max_connections = 200
# Development/test cluster: trade crash safety for speed (tests create many databases).
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
}

ensure_database() {
    local port="$1" exists
    exists="$(psql_admin "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" \
        || die "cannot connect to the local server on 127.0.0.1:$port (see $LOG_FILE)"
    if [[ "$exists" != "1" ]]; then
        log "creating database $DB_NAME"
        psql_admin "$port" -c "CREATE DATABASE $DB_NAME" >/dev/null
    fi
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
    ensure_pg_bin
    mkdir -p "$PG_ROOT"
    # A restrictive umask (e.g. 077 in CI) must not lock the server user out of .data.
    chmod 755 "$ROOT/.data" "$PG_ROOT" 2>/dev/null || true
    choose_os_user
    check_traversal

    exec 9>"$LOCK_FILE"
    if command -v flock >/dev/null 2>&1; then
        flock -w 120 9 || die "timed out waiting for another scripts/db.sh (lock $LOCK_FILE)"
    fi

    if [[ -d "$PGDATA_DIR" && ! -s "$PGDATA_DIR/PG_VERSION" ]]; then
        log "removing an incomplete cluster directory left by an interrupted initdb"
        rm -rf "$PGDATA_DIR"
    fi
    if [[ -s "$PGDATA_DIR/PG_VERSION" ]]; then
        local have want
        have="$(cat "$PGDATA_DIR/PG_VERSION")"
        want="$("$PG_BIN/postgres" -V | grep -oE '[0-9]+' | head -n1)"
        if [[ "$have" != "$want" ]]; then
            local alt="/usr/lib/postgresql/$have/bin"
            if [[ -x "$alt/pg_ctl" ]]; then PG_BIN="$alt"
            else die "the cluster in $PGDATA_DIR is PostgreSQL $have but only $want is installed; run 'scripts/db.sh reset'"
            fi
        fi
    else
        init_cluster
    fi

    local port pid
    if pid="$(server_pid)"; then
        port="$(running_port)"
        [[ "$(saved_port)" == "$port" ]] || echo "$port" >"$PORT_FILE"
    else
        # Not running. Anything in postmaster.pid is stale (crash, reboot, killed container).
        if [[ -e "$PGDATA_DIR/postmaster.pid" ]]; then
            log "removing stale postmaster.pid"
            rm -f "$PGDATA_DIR/postmaster.pid"
        fi
        port="$(saved_port || true)"
        if [[ -z "$port" ]]; then
            port="$(pick_port)"
        elif ! port_free "$port"; then
            local old="$port"
            port="$(pick_port)"
            log "port $old is taken by another program; moving the cluster to port $port"
        fi
        echo "$port" >"$PORT_FILE"

        own_dir "$SOCK_DIR" 700
        rm -f "$SOCK_DIR"/.s.PGSQL.* 2>/dev/null || true
        write_conf "$port"
        touch "$LOG_FILE"
        [[ -z "$AS_USER" ]] || chown "$AS_USER": "$LOG_FILE"

        log "starting PostgreSQL on 127.0.0.1:$port (log: $LOG_FILE)"
        # 9>&-: the server must not inherit (and hold forever) the lock taken above.
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 -s start </dev/null >&2 9>&-; then
            tail -n 30 "$LOG_FILE" >&2 || true
            die "PostgreSQL failed to start (log above, full log in $LOG_FILE)"
        fi
    fi

    ensure_database "$port"
    echo "DATABASE_URL=$(url_for "$port")"
}

cmd_stop() {
    [[ -s "$PGDATA_DIR/PG_VERSION" ]] || { log "no cluster in $PGDATA_DIR"; return 0; }
    if ! server_pid >/dev/null; then
        log "not running"
        return 0
    fi
    find_pg_bin || die "PostgreSQL binaries not found"
    choose_os_user
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 -s stop </dev/null >&2; then
        # pg_ctl also waits for a dead postmaster that lingers as a zombie; trust our own check.
        server_pid >/dev/null && die "PostgreSQL did not stop (see $LOG_FILE)"
    fi
    log "stopped"
}

cmd_status() {
    if [[ ! -s "$PGDATA_DIR/PG_VERSION" ]]; then
        echo "no cluster (run: scripts/db.sh start)"
        return 3
    fi
    local pid
    if pid="$(server_pid)"; then
        echo "running: pid $pid, 127.0.0.1:$(running_port), data $PGDATA_DIR"
        echo "DATABASE_URL=$(url_for "$(running_port)")"
    else
        echo "stopped: port $(saved_port || echo '?'), data $PGDATA_DIR"
        return 3
    fi
}

cmd_url() {
    local port
    if server_pid >/dev/null; then port="$(running_port)"; else port="$(saved_port || true)"; fi
    [[ -n "$port" ]] || die "no local cluster yet; run: scripts/db.sh start"
    url_for "$port"
}

cmd_reset() {
    cmd_stop
    if [[ -d "$PG_ROOT" ]]; then
        rm -rf "$PG_ROOT"
        log "deleted $PG_ROOT"
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url ;;
    reset) cmd_reset ;;
    *)
        echo "usage: $0 start|stop|status|url|reset" >&2
        exit 2
        ;;
esac
