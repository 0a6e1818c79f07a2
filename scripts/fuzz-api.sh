#!/usr/bin/env bash
# Fuzzes the whole API with schemathesis, from the OpenAPI document the server serves: every
# operation, as an admin and as an agent, must answer without a server error (5xx) and as the
# document says (documented status, content type and response schema).
#
#   scripts/fuzz-api.sh
#
# Starts the built backend (target/debug/warm-transfer, or $WARM_TRANSFER_BIN; built when
# missing) in demo mode on a free loopback port against a fresh database, signs in as the seeded
# admin and agent, runs schemathesis with each token, then stops the server and drops the
# database. schemathesis comes from PyPI into the project-local virtualenv .venv/fuzz, pinned
# in scripts/fuzz-requirements.txt.
#
# DATABASE_URL: the PostgreSQL server to use (otherwise the project-local one, scripts/db.sh).
# FUZZ_MAX_EXAMPLES (default 12): test cases per operation and phase. FUZZ_SECONDS (default 40):
# time budget of each of the two runs; the whole step stays under about two minutes.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_NAME="fuzz-api"
cd "$ROOT"

MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-12}"
SECONDS_PER_RUN="${FUZZ_SECONDS:-40}"
VENV="$ROOT/.venv/fuzz"
REQUIREMENTS="$ROOT/scripts/fuzz-requirements.txt"

# schemathesis -----------------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for schemathesis)"
marker="$VENV/.requirements"
if [[ ! -x "$VENV/bin/schemathesis" ]] || ! cmp -s "$REQUIREMENTS" "$marker"; then
    log "installing schemathesis into ${VENV#"$ROOT"/}"
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" </dev/null
    cp "$REQUIREMENTS" "$marker"
fi

# The server -------------------------------------------------------------------------------------
BIN="${WARM_TRANSFER_BIN:-$(target_dir)/debug/warm-transfer}"
if [[ -z "${WARM_TRANSFER_BIN:-}" ]]; then
    cargo build -q -p warm-transfer
fi
[[ -x "$BIN" ]] || die "$BIN not found"

if [[ -z "${DATABASE_URL:-}" ]]; then
    DATABASE_URL="$(local_database_url)"
fi
PSQL="$(find_psql)"
export PSQL
ADMIN_URL="$(database_on "$DATABASE_URL" postgres)"
RUN_ID="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
# Named like make test's databases when run from it, so its clean-up covers a killed run too.
DB_NAME="${TEST_DATABASE_PREFIX:-test_${RUN_ID}_}fuzz"
DB_URL="$(database_on "$DATABASE_URL" "$DB_NAME")"
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    drop_database "$ADMIN_URL" "$DB_NAME" || log "warning: could not drop database $DB_NAME"
    if ((rc != 0)) && [[ -f "$WORK/server.log" ]]; then
        log "server log (last 40 lines):"
        tail -n 40 "$WORK/server.log" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql_url "$ADMIN_URL" -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null || die "cannot create database $DB_NAME"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
ADMIN_EMAIL="fuzz-admin@example.com"
PASSWORD="fuzz-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

# Demo mode (no Twilio variables): the simulator plays Twilio; the admin and the two demo
# agents are seeded with these passwords. Sign-in limits are lifted: the fuzzer signs in with
# made-up credentials many times and would otherwise lock itself out (429 is documented anyway).
env -u PUBLIC_BASE_URL -u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN -u TWILIO_API_KEY_SID \
    -u TWILIO_API_KEY_SECRET -u TWILIO_TWIML_APP_SID -u TWILIO_PHONE_NUMBER -u STATIC_DIR \
    DATABASE_URL="$DB_URL" APP_ENV=development APP_HOST=127.0.0.1 APP_PORT="$PORT" \
    DATA_DIR="$WORK/data" DEMO_ADMIN_EMAIL="$ADMIN_EMAIL" DEMO_ADMIN_PASSWORD="$PASSWORD" \
    DEMO_AGENT_PASSWORD="$PASSWORD" LOGIN_MAX_FAILURES=100000 RUST_LOG="${RUST_LOG:-warn}" \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start"
    sleep 0.2
done
curl -fsS -o /dev/null "$BASE/readyz" || die "the server did not become ready at $BASE"

token() { # EMAIL
    curl -fsS -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" "$BASE/api/auth/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
ADMIN_TOKEN="$(token "$ADMIN_EMAIL")" || die "cannot sign in as the admin"
AGENT_TOKEN="$(token agent1@example.com)" || die "cannot sign in as agent1"

# One run per role. Left out: signing out (it would end the fuzzer's own session), the live
# event stream (it never ends, by design) and the stateful phase (it follows links from
# `GET /api/me` to `PATCH /api/agents/{id}` and deactivates or re-passwords the fuzzer itself).
# One worker: concurrent schema walks trip a CPython 3.11 parser bug inside hypothesis.
fuzz() { # ROLE TOKEN
    log "fuzzing the API as $1 (at most $MAX_EXAMPLES cases per operation, ${SECONDS_PER_RUN}s)"
    # From the scratch folder: schemathesis keeps its example database in the working directory.
    (cd "$WORK" && timeout --kill-after=10 "$((SECONDS_PER_RUN + 30))" \
        "$VENV/bin/schemathesis" run "$BASE/openapi.json" \
        --header "Authorization: Bearer $2" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --exclude-operation-id logout \
        --exclude-operation-id streamEvents \
        --max-examples "$MAX_EXAMPLES" \
        --max-time "$SECONDS_PER_RUN" \
        --request-timeout 10 \
        --phases examples,coverage,fuzzing \
        --workers 1 \
        --seed "${FUZZ_SEED:-$((16#$RUN_ID % 100000))}" \
        --suppress-health-check all \
        --no-color </dev/null)
}
status=0
fuzz admin "$ADMIN_TOKEN" || status=1
fuzz agent "$AGENT_TOKEN" || status=1
exit "$status"
