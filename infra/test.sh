#!/usr/bin/env bash
# The one test command of Personeelsbank: ./infra/test.sh [extra nextest args]
#
# Makes sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are
# reachable, then runs rustfmt, clippy and every test with cargo-nextest.
# On a fresh Debian CI machine (root) it installs and starts what is missing;
# as a normal user it tells you what to do instead of touching the system.
#
# Overrides:
#   PB_TEST_ADMIN_URL  superuser URL of the test server (skips the Postgres setup)
#   PB_TEST_REDIS_URL  Redis URL for tests (skips the Redis setup)
#   NEXTEST_PROFILE    nextest profile; `ci` by default when CI is set
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -t 1 ]]; then bold=$'\033[1m' red=$'\033[31m' plain=$'\033[0m'; else bold="" red="" plain=""; fi
section() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
die() { printf '\n%serror:%s %s\n' "$red" "$plain" "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_updated=""
apt_install() {
    if [[ -z "$apt_updated" ]]; then
        apt-get update
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# Wait up to $1 seconds for "$2..." to succeed.
wait_for() {
    local seconds=$1
    shift
    for _ in $(seq "$seconds"); do
        if "$@"; then return 0; fi
        sleep 1
    done
    "$@"
}

# --- PostgreSQL -------------------------------------------------------------

pg_reachable() {
    if have pg_isready; then
        pg_isready -q -h 127.0.0.1 -p 5432
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

# Can the test superuser log in over TCP without a password?
pg_login_ok() {
    PGCONNECT_TIMEOUT=5 psql -w -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1
}

ensure_postgres() {
    if [[ -n "${PB_TEST_ADMIN_URL:-}" ]]; then
        echo "using PB_TEST_ADMIN_URL (Postgres setup skipped)"
        return
    fi
    local installed_here=""
    if ! pg_reachable; then
        if ! have pg_ctlcluster && is_root; then
            echo "PostgreSQL is not installed; installing it"
            apt_install postgresql
            installed_here=1
        fi
        if have pg_ctlcluster && [[ -d /etc/postgresql ]]; then
            local version
            version=$(ls /etc/postgresql | sort -V | tail -1)
            echo "starting PostgreSQL $version/main"
            if pg_ctlcluster --skip-systemctl-redirect "$version" main start; then
                wait_for 30 pg_reachable || true
            fi
        fi
        pg_reachable || die "PostgreSQL is not reachable at 127.0.0.1:5432.
  Debian/Ubuntu: sudo apt-get install postgresql && sudo pg_ctlcluster <version> main start
  Or point PB_TEST_ADMIN_URL at a superuser URL of another server, e.g.
    PB_TEST_ADMIN_URL=postgres://postgres@127.0.0.1:5433/postgres ./infra/test.sh"
    fi

    # Tests log in as postgres, pb_test_owner and pb_test_app without
    # passwords, which needs trust authentication on 127.0.0.1. Debian's
    # default is scram; on a disposable CI machine (or one we just installed
    # Postgres on) we allow it, anywhere else we only explain.
    if have psql && ! pg_login_ok; then
        if is_root && [[ -n "${CI:-}" || -n "$installed_here" ]]; then
            local hba
            hba=$(runuser -u postgres -- psql -X -Atc 'SHOW hba_file')
            echo "CI: allowing trust authentication from 127.0.0.1 in $hba"
            sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
            runuser -u postgres -- psql -X -q -Atc 'SELECT pg_reload_conf()' >/dev/null
            wait_for 10 pg_login_ok || die "still cannot log in as postgres on 127.0.0.1:5432"
        else
            die "cannot log in to PostgreSQL at 127.0.0.1:5432 as postgres without a password.
  The tests need trust authentication from 127.0.0.1 on a development server: add
    host all all 127.0.0.1/32 trust
  at the top of pg_hba.conf (SHOW hba_file) and reload, or set PB_TEST_ADMIN_URL."
        fi
    fi
    export PB_TEST_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres
}

# --- Redis ------------------------------------------------------------------

redis_reachable() {
    if have redis-cli; then
        [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]]
    else
        # Plain bash: speak the inline protocol over /dev/tcp.
        (
            exec 3<>/dev/tcp/127.0.0.1/6379
            printf 'PING\r\n' >&3
            read -r -t 2 reply <&3
            [[ "$reply" == +PONG* ]]
        ) 2>/dev/null
    fi
}

ensure_redis() {
    if [[ -n "${PB_TEST_REDIS_URL:-}" ]]; then
        echo "using PB_TEST_REDIS_URL (Redis setup skipped)"
        return
    fi
    if ! redis_reachable; then
        if ! have redis-server && is_root; then
            echo "Redis is not installed; installing it"
            apt_install redis-server
        fi
        have redis-server || die "Redis is not reachable at 127.0.0.1:6379 and redis-server is not installed.
  Debian/Ubuntu: sudo apt-get install redis-server
  Or set PB_TEST_REDIS_URL to a Redis the tests may flush."
        echo "starting a throw-away redis-server (no persistence)"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
        wait_for 10 redis_reachable || die "redis-server did not come up on 127.0.0.1:6379"
    fi
    export PB_TEST_REDIS_URL=redis://127.0.0.1:6379
}

# --- Rust tooling -----------------------------------------------------------

ensure_rust_tools() {
    have cargo || die "cargo is not installed; install Rust with rustup: https://rustup.rs"
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        have rustup || die "cargo fmt and cargo clippy are needed (rustup component add rustfmt clippy)"
        rustup component add rustfmt clippy
    fi
    if ! have cc && is_root; then
        # Some dependencies (ring, for TLS) compile C code.
        apt_install build-essential pkg-config
    fi
    if ! cargo nextest --version >/dev/null 2>&1; then
        echo "installing cargo-nextest"
        cargo install cargo-nextest --locked
    fi
}

# --- Run --------------------------------------------------------------------

section "PostgreSQL"
ensure_postgres
section "Redis"
ensure_redis
section "Rust tooling"
ensure_rust_tools

section "cargo fmt --check"
cargo fmt --all --check

section "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

section "cargo nextest"
if [[ -n "${CI:-}" ]]; then
    export NEXTEST_PROFILE="${NEXTEST_PROFILE:-ci}"
fi
cargo nextest run --workspace --no-fail-fast "$@"

# The benchmark harness at Region scale, in the debug profile so it reuses
# the test build. It proves the harness works; timings are reported, never
# asserted, and the report goes to a temporary directory, not docs/.
section "benchmark harness (pb-bench --quick)"
bench_out=$(mktemp -d)
cargo run -p pb-bench -- --quick --out "$bench_out"
rm -rf "$bench_out"

if [[ -f web/tests/package.json ]]; then
    section "browser tests"
    [[ -f infra/browser-tests.sh ]] || die "web/tests/package.json exists but infra/browser-tests.sh does not"
    bash infra/browser-tests.sh
fi

section "all checks passed"
