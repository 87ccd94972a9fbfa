#!/usr/bin/env bash
# Browser tests of the web app: headless Chromium driven by playwright-core,
# run with node's built-in test runner against the real server.
#
#   bash infra/browser-tests.sh            (./infra/test.sh calls it too)
#
# What it does, each step bounded in time:
#   1. makes sure Chromium (Debian's `chromium`) and node/npm are there:
#      as root it installs them with apt-get, otherwise it explains;
#   2. installs the pinned playwright-core in web/tests (npm ci);
#   3. creates a fresh private database on the test PostgreSQL
#      (PB_TEST_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres),
#      named like the Rust tests' databases so stale-database cleanup also
#      catches one left behind by a killed run;
#   4. builds and starts the server on a free 127.0.0.1 port, which migrates
#      and loads the demo region; mail goes to files in a temporary directory;
#   5. runs `node --test` in web/tests; screenshots land in
#      web/tests/artifacts/ (git-ignored);
#   6. stops the server and drops the database (trap), whatever happened.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_updated=""
apt_install() {
    if [[ -z "$apt_updated" ]]; then
        timeout 600 apt-get update
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y --no-install-recommends "$@"
}

# --- tools ------------------------------------------------------------------

if ! have chromium; then
    if is_root; then
        echo "Chromium is not installed; installing Debian's chromium"
        apt_install chromium
    else
        die "Chromium is needed for the browser tests and is not installed.
  Debian/Ubuntu: sudo apt-get install chromium
  (the tests use the system's chromium binary; playwright downloads no browser)"
    fi
fi
if ! have node || ! have npm; then
    if is_root; then
        echo "node/npm are not installed; installing them"
        apt_install nodejs npm
    else
        die "node (18 or newer) and npm are needed for the browser tests.
  Debian/Ubuntu: sudo apt-get install nodejs npm"
    fi
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ "$node_major" -ge 18 ]] || die "node $node_major is too old for the browser tests (need 18 or newer)"
have psql || die "psql is needed to create the test database (Debian/Ubuntu: apt-get install postgresql-client)"

export CHROMIUM_PATH
CHROMIUM_PATH=$(command -v chromium)
echo "chromium: $CHROMIUM_PATH ($("$CHROMIUM_PATH" --version 2>/dev/null || echo 'version unknown'))"

echo "installing playwright-core in web/tests"
(
    cd web/tests
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    timeout 300 npm ci --no-audit --no-fund --loglevel=error
)

# --- database ---------------------------------------------------------------

admin_url="${PB_TEST_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# The admin URL with another user and database (same host, port, query).
url_with() {
    local user=$1 db=$2 rest hostpart query=""
    rest=${admin_url#*://}
    if [[ "$rest" == *\?* ]]; then query="?${rest#*\?}"; rest=${rest%%\?*}; fi
    hostpart=${rest%%/*}
    hostpart=${hostpart##*@}
    printf 'postgres://%s@%s/%s%s' "$user" "$hostpart" "$db" "$query"
}
psql_admin() { PGCONNECT_TIMEOUT=10 psql -w -X -q -v ON_ERROR_STOP=1 "$admin_url" "$@"; }

db_name="pb_test_$(date +%s)_browser$$"
work=$(mktemp -d -t pb-browser.XXXXXX)
server_pid=""

cleanup() {
    local rc=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    psql_admin -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null 2>&1 || true
    if [[ $rc -ne 0 && -f "$work/server.log" ]]; then
        echo "---- last lines of the server log ----"
        tail -n 60 "$work/server.log" || true
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT INT TERM

# The same roles the Rust test harness uses (pb_store::provision): a NOLOGIN
# group pb_app, the owner that migrates, and an app login bound by RLS.
psql_admin <<'SQL'
DO $pb$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pb_app') THEN
    CREATE ROLE pb_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pb_test_owner') THEN
    CREATE ROLE pb_test_owner LOGIN NOSUPERUSER NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pb_test_app') THEN
    CREATE ROLE pb_test_app LOGIN INHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $pb$;
GRANT pb_app TO pb_test_app;
SQL
psql_admin -c "CREATE DATABASE \"$db_name\" OWNER pb_test_owner" >/dev/null
echo "database: $db_name"

# --- server -----------------------------------------------------------------

echo "building the server"
timeout 1800 cargo build -p personeelsbank --bin personeelsbank
binary="${CARGO_TARGET_DIR:-$root/target}/debug/personeelsbank"

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base_url="http://127.0.0.1:$port"

env -u REDIS_URL -u SMTP_URL \
    DATABASE_URL="$(url_with pb_test_app "$db_name")" \
    DATABASE_OWNER_URL="$(url_with pb_test_owner "$db_name")" \
    MIGRATE_ON_START=true DEMO_DATA=true \
    BIND_ADDR=127.0.0.1 PORT="$port" PUBLIC_URL="$base_url" \
    DATA_DIR="$work/data" RUST_LOG="${RUST_LOG:-info}" \
    "$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!

echo "waiting for $base_url/readyz (migrations and demo data)"
ready=""
for _ in $(seq 240); do
    if ! kill -0 "$server_pid" 2>/dev/null; then die "the server stopped during start-up"; fi
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$base_url/readyz" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.5
done
[[ -n "$ready" ]] || die "the server was not ready within 120 s"

# --- tests ------------------------------------------------------------------

mkdir -p web/tests/artifacts
echo "running the browser tests against $base_url"
(
    cd web/tests
    PB_BASE_URL="$base_url" PB_MAIL_DIR="$work/data/mail" PB_ARTIFACTS="$root/web/tests/artifacts" \
        timeout 900 node --test --test-concurrency=1 --test-timeout=240000 \
            ${PB_BROWSER_TEST_PATTERN:+--test-name-pattern="$PB_BROWSER_TEST_PATTERN"} e2e.test.mjs
)
echo "screenshots: web/tests/artifacts/"
