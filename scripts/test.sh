#!/usr/bin/env bash
# `make test`: every test suite against a real PostgreSQL, with a summary.
#
#   scripts/test.sh                 all steps
#   scripts/test.sh STEP...         only these steps (setup steps tools and db always run)
#
# Steps: rust, rust-lint, openapi-drift, api-fuzz, deploy-check, frontend-typecheck, frontend-lint,
# frontend-api-drift, frontend-unit, frontend-build, e2e. A missing suite fails its step: a frontend step whose npm script
# frontend/package.json lacks, no openapi.yaml, a Rust run that finds no tests.
# Every step runs even after a failure; the exit status is 1 when any step failed.
# DATABASE_URL: when set, that server is used; otherwise the project-local one (scripts/db.sh).
# Tests create their own isolated databases on it, named with this run's prefix
# TEST_DATABASE_PREFIX=test_<run id>_ (exported; the Rust tests and the e2e runner use it). At the
# end of the run, and whenever it exits, the script drops this run's databases and no others, so
# runs can share a server.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_NAME="test"
cd "$ROOT"

ALL_STEPS=(rust rust-lint openapi-drift api-fuzz deploy-check frontend-typecheck frontend-lint frontend-api-drift frontend-unit frontend-build e2e)
if (($#)); then
    for s in "$@"; do
        [[ " ${ALL_STEPS[*]} " == *" $s "* ]] || { echo "unknown step '$s'; steps: ${ALL_STEPS[*]}" >&2; exit 2; }
    done
    SELECTED=("$@")
else
    SELECTED=("${ALL_STEPS[@]}")
fi
selected() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

NAMES=() RESULTS=() TIMES=() NOTES=()
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fmt_ms() { printf '%d.%ds' $(($1 / 1000)) $(($1 % 1000 / 100)); }
record() { NAMES+=("$1"); RESULTS+=("$2"); TIMES+=("$3"); NOTES+=("${4:-}"); }

# run_step NAME FUNCTION: runs FUNCTION in a subshell with errexit, records pass/fail and time.
run_step() {
    local name="$1" fn="$2" start rc elapsed
    if [[ -t 1 ]]; then printf '\n\033[1m==> [%s]\033[0m\n' "$name"; else printf '\n==> [%s]\n' "$name"; fi
    start="$(now_ms)"
    set +e
    ( set -euo pipefail; "$fn" ) </dev/null
    rc=$?
    set -e
    elapsed=$(( $(now_ms) - start ))
    if ((rc == 0)); then
        record "$name" PASS "$elapsed"
        printf '==> [%s] passed in %s\n' "$name" "$(fmt_ms "$elapsed")"
    else
        record "$name" FAIL "$elapsed" "exit $rc"
        printf '==> [%s] FAILED (exit %d) in %s\n' "$name" "$rc" "$(fmt_ms "$elapsed")"
    fi
}
step_passed() {
    local i
    for i in "${!NAMES[@]}"; do [[ "${NAMES[$i]}" == "$1" && "${RESULTS[$i]}" == PASS ]] && return 0; done
    return 1
}
skip_step() {
    record "$1" SKIP 0 "$2"
    printf '\n==> [%s] skipped: %s\n' "$1" "$2"
}
# A step that cannot run because its suite is missing: a failure, not a skip.
fail_step() {
    record "$1" FAIL 0 "$2"
    printf '\n==> [%s] FAILED: %s\n' "$1" "$2"
}

# ---------------------------------------------------------------------------------------------
# Steps

step_tools() {
    local args=()
    if selected e2e; then args+=(--browser); fi
    # The Rust tests run several instances behind Caddy.
    if selected rust; then args+=(--proxy); fi
    bash scripts/ensure-tools.sh "${args[@]}"
}

DB_URL_FILE="$(mktemp)"
step_db() { local_database_url >"$DB_URL_FILE"; }

# This run's databases: the Rust tests' (<prefix><uuid>) and the e2e runner's (<prefix>e2e_...).
RUN_ID="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
export TEST_DATABASE_PREFIX="test_${RUN_ID}_"

# Drops the databases named TEST_DATABASE_PREFIX*, and only those: other runs on the same server
# keep theirs. Runs at the end and again on exit (a no-op then).
drop_run_databases() {
    [[ -n "${DATABASE_URL:-}" ]] || return 0
    [[ "$TEST_DATABASE_PREFIX" =~ ^test_[0-9a-f]{8}_$ ]] || { log "not dropping databases: odd prefix '$TEST_DATABASE_PREFIX'"; return 0; }
    local admin names name dropped=0
    admin="$(database_on "$DATABASE_URL" postgres)"
    PSQL="$(find_psql 2>/dev/null)" || { log "warning: psql not found; databases ${TEST_DATABASE_PREFIX}* are left"; return 0; }
    # `_` is a LIKE wildcard: escape it so the prefix matches only itself.
    names="$(psql_url "$admin" -At -c "SELECT datname FROM pg_database WHERE datname LIKE '${TEST_DATABASE_PREFIX//_/\\_}%'")" \
        || { log "warning: could not list databases ${TEST_DATABASE_PREFIX}*"; return 0; }
    for name in $names; do
        # E2E_KEEP_DB=1 asks the e2e runner to keep its database for a look afterwards.
        [[ "${E2E_KEEP_DB:-}" == 1 && "$name" == "${TEST_DATABASE_PREFIX}e2e_"* ]] && continue
        if drop_database "$admin" "$name"; then dropped=$((dropped + 1)); else log "warning: could not drop database $name"; fi
    done
    ((dropped == 0)) || log "dropped this run's $dropped test database(s) ${TEST_DATABASE_PREFIX}*"
}
on_exit() {
    local rc=$?
    drop_run_databases || true
    rm -f "$DB_URL_FILE"
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step_rust() {
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --workspace --no-fail-fast --no-tests=fail
    else
        cargo test --workspace --no-fail-fast
    fi
}

step_rust_lint() {
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --quiet -- -D warnings
    # The app without the simulator (a Twilio-only build) must build cleanly too.
    cargo clippy -p warm-transfer --no-default-features --all-targets --quiet -- -D warnings
}

step_openapi_drift() {
    mkdir -p target
    local fresh=target/openapi.check.yaml
    cargo run -q -p warm-transfer -- openapi >"$fresh"
    if ! diff -u openapi.yaml "$fresh" >"$fresh.diff"; then
        head -n 80 "$fresh.diff"
        echo "openapi.yaml is out of date with the code; regenerate it with: make openapi" >&2
        return 1
    fi
}

# schemathesis over the whole API as an admin and as an agent (scripts/fuzz-api.sh): no server
# error, every answer as the OpenAPI document says. About a minute and a half.
step_api_fuzz() { bash scripts/fuzz-api.sh; }

# The Kubernetes manifests (deploy/k8s) and docker-compose.yml, offline: each object against its
# kind's schema (unknown fields too), and against the app (config variables, routes, image);
# the checker's tests check the committed files, then break each rule in memory and expect it
# to fail (`node deploy/check/check.mjs` alone lists what is wrong).
step_deploy_check() {
    local dir=deploy/check
    # npm writes node_modules/.package-lock.json on every install: it marks the installed state.
    if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
        npm --prefix "$dir" ci --no-audit --no-fund --loglevel=error
    fi
    (cd "$dir" && node --test --test-reporter=spec)
}

step_frontend_typecheck() { npm --prefix frontend run typecheck; }
step_frontend_lint() { npm --prefix frontend run lint; }
step_frontend_unit() { npm --prefix frontend test; }
step_frontend_api_drift() { npm --prefix frontend run check:api; }
step_frontend_build() { npm --prefix frontend run build; }
step_e2e() {
    # The e2e runner starts target/debug/warm-transfer itself (or $WARM_TRANSFER_BIN).
    [[ -n "${WARM_TRANSFER_BIN:-}" ]] || cargo build -p warm-transfer
    # The SPA was just built by the frontend-build step: don't build it twice.
    if step_passed frontend-build; then export E2E_SKIP_BUILD=1; fi
    npm --prefix frontend run e2e
}

# ---------------------------------------------------------------------------------------------
# Run

T0="$(now_ms)"

run_step tools step_tools

if [[ -n "${DATABASE_URL:-}" ]]; then
    skip_step db "using DATABASE_URL from the environment"
else
    run_step db step_db
    url="$(cat "$DB_URL_FILE")"
    if [[ -n "$url" ]]; then export DATABASE_URL="$url"; fi
fi
# Show where tests go, without the password.
if [[ -n "${DATABASE_URL:-}" ]]; then
    echo "DATABASE_URL=$(redact_url "$DATABASE_URL")"
fi
echo "TEST_DATABASE_PREFIX=$TEST_DATABASE_PREFIX"

selected rust && run_step rust step_rust
selected rust-lint && run_step rust-lint step_rust_lint

if selected openapi-drift; then
    if [[ -f openapi.yaml ]]; then
        run_step openapi-drift step_openapi_drift
    else
        fail_step openapi-drift "no openapi.yaml (generate it with: make openapi)"
    fi
fi

selected api-fuzz && run_step api-fuzz step_api_fuzz
if selected deploy-check; then
    if [[ -f deploy/check/package-lock.json ]]; then
        run_step deploy-check step_deploy_check
    else
        fail_step deploy-check "no deploy/check/package-lock.json"
    fi
fi

frontend_step() { # NAME NPM_SCRIPT FUNCTION
    selected "$1" || return 0
    if has_npm_script "$2"; then run_step "$1" "$3"; else fail_step "$1" "no npm script '$2' in frontend/package.json"; fi
}
frontend_step frontend-typecheck typecheck step_frontend_typecheck
frontend_step frontend-lint lint step_frontend_lint
frontend_step frontend-api-drift check:api step_frontend_api_drift
frontend_step frontend-unit test step_frontend_unit
frontend_step frontend-build build step_frontend_build
frontend_step e2e e2e step_e2e

drop_run_databases

# ---------------------------------------------------------------------------------------------
# Summary

passed=0 failed=0 skipped=0
printf '\n======================== summary ========================\n'
for i in "${!NAMES[@]}"; do
    case "${RESULTS[$i]}" in
        PASS) passed=$((passed + 1)); printf '  PASS  %-20s %9s\n' "${NAMES[$i]}" "$(fmt_ms "${TIMES[$i]}")" ;;
        FAIL) failed=$((failed + 1)); printf '  FAIL  %-20s %9s  %s\n' "${NAMES[$i]}" "$(fmt_ms "${TIMES[$i]}")" "${NOTES[$i]}" ;;
        SKIP) skipped=$((skipped + 1)); printf '  SKIP  %-20s %9s  %s\n' "${NAMES[$i]}" "-" "${NOTES[$i]}" ;;
    esac
done
printf '  total %-20s %9s\n' "" "$(fmt_ms $(( $(now_ms) - T0 )))"
((skipped == 0)) || printf '%d skipped\n' "$skipped"
printf '%d passed, %d failed\n' "$passed" "$failed"

((failed == 0))
