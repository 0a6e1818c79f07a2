#!/usr/bin/env bash
# `make bench`: load figures for the backend (release build, loopback, real PostgreSQL, the
# Twilio simulator). Prints a table; not part of `make test`.
#
# Starts the project-local PostgreSQL (scripts/db.sh) unless DATABASE_URL is set, creates four
# fresh databases for this run (throughput phases, routing run, live-events run, data scale), builds
# the release binary and the benchmark (backend/benches/load/main.rs), runs it and drops the databases
# at the end, whatever happens. Knobs (environment): BENCH_CONNECTIONS (32), BENCH_SECONDS (5),
# BENCH_WARMUP_SECONDS (1), BENCH_ROUTING_CALLS (1000), BENCH_ROUTING_AGENTS (200),
# BENCH_ROUTING_TIMEOUT_SECONDS (120), BENCH_ROUTING_TALK_MS (2000), BENCH_ROUTING_ANSWER_MS (0), BENCH_STREAMS (200,1000,2000: open
# event streams per row), BENCH_STREAMS_CALLS (20: the burst), BENCH_HISTORY_CALLS (1000000),
# BENCH_HISTORY_WAITING (15000), BENCH_ONLY (comma-separated runs: throughput, routing, streams,
# history; default all).
# Exit status: 0 when every routed call was served without a double-booking and no stream lost an
# event; 1 when not; 2 (or
# another code) when the run could not complete.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_NAME=bench
DIE_STATUS=2
cd "$ROOT"

now_s() { date +%s; }

command -v cargo >/dev/null 2>&1 || die "cargo not found"

# ---------------------------------------------------------------------------------------------
# Database server and psql

if [[ -n "${DATABASE_URL:-}" ]]; then
    BASE_URL="$DATABASE_URL"
    log "using the PostgreSQL server from DATABASE_URL"
else
    BASE_URL="$(local_database_url)"
fi
[[ "$BASE_URL" =~ ^postgres(ql)?://[^/]+/[^/?]+ ]] || die "unexpected database URL shape: $BASE_URL"

PSQL="$(find_psql)"

# The same server, database `postgres`, for CREATE/DROP DATABASE.
ADMIN_URL="$(database_on "$BASE_URL" postgres)"

RUN_ID="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
DB_MAIN="bench_${RUN_ID}"
DB_ROUTING="bench_${RUN_ID}_routing"
DB_STREAMS="bench_${RUN_ID}_streams"
DB_HISTORY="bench_${RUN_ID}_history"
CREATED=()

cleanup() {
    local rc=$? db
    for db in "${CREATED[@]}"; do
        drop_database "$ADMIN_URL" "$db" || log "warning: could not drop database $db"
    done
    ((${#CREATED[@]} == 0)) || log "dropped databases ${CREATED[*]}"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for db in "$DB_MAIN" "$DB_ROUTING" "$DB_STREAMS" "$DB_HISTORY"; do
    psql_url "$ADMIN_URL" -c "CREATE DATABASE \"$db\"" >/dev/null || die "could not create database $db"
    CREATED+=("$db")
done
log "created databases $DB_MAIN, $DB_ROUTING, $DB_STREAMS and $DB_HISTORY"

# ---------------------------------------------------------------------------------------------
# Build (release) and run

start="$(now_s)"
log "building the release binary and the benchmark (the first build takes a few minutes)"
cargo build --release -p warm-transfer
# `cargo bench` builds in the bench profile (= release); the benchmark is then run directly so
# that a Ctrl-C or `kill` reaches it and it can stop the servers it started.
# The bench target's artifact (cargo also lists the server binary it builds alongside).
BENCH_EXE="$(cargo bench -p warm-transfer --bench load --no-run --message-format=json \
    | grep '"kind":\["bench"\]' | grep -o '"executable":"[^"]*"' | tail -n1 \
    | sed 's/^"executable":"//; s/"$//')"
[[ -n "$BENCH_EXE" && -x "$BENCH_EXE" ]] || die "could not find the built benchmark executable"
log "built in $(($(now_s) - start)) s"

BIN="$(target_dir)/release/warm-transfer"
[[ -x "$BIN" ]] || die "release binary not found at $BIN"

BENCH_PID=""
stop_bench() {
    if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill -TERM "$BENCH_PID" 2>/dev/null || true
        wait "$BENCH_PID" 2>/dev/null || true
    fi
    exit "$1"
}
trap 'stop_bench 130' INT
trap 'stop_bench 143' TERM

start="$(now_s)"
BENCH_DATABASE_URL="$(database_on "$BASE_URL" "$DB_MAIN")" \
BENCH_ROUTING_DATABASE_URL="$(database_on "$BASE_URL" "$DB_ROUTING")" \
BENCH_STREAMS_DATABASE_URL="$(database_on "$BASE_URL" "$DB_STREAMS")" \
BENCH_HISTORY_DATABASE_URL="$(database_on "$BASE_URL" "$DB_HISTORY")" \
BENCH_SERVER_BIN="$BIN" \
BENCH_PSQL="$PSQL" \
    "$BENCH_EXE" &
BENCH_PID=$!
rc=0
wait "$BENCH_PID" || rc=$?
BENCH_PID=""

echo
case "$rc" in
    0) echo "bench: finished in $(($(now_s) - start)) s" ;;
    1) echo "bench: FAILED in $(($(now_s) - start)) s (see the routing and live-events results above)" ;;
    *) echo "bench: ERROR (exit $rc) after $(($(now_s) - start)) s; no complete figures" ;;
esac
exit "$rc"
