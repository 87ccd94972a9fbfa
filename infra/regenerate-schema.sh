#!/usr/bin/env bash
# Regenerate backend/store/src/schema.rs from the migrations.
#
# Creates a scratch database `pb_schema_gen` on the local test server, runs
# every migration into it with diesel_cli (diesel.toml at the repository root
# tells it to rewrite schema.rs afterwards), formats the result and drops the
# scratch database again. Run it after adding or changing a migration, then
# review and commit the diff of schema.rs. Never edit schema.rs by hand.
#
#   PB_TEST_ADMIN_URL  superuser URL of the server to use
#                      (default postgres://postgres@127.0.0.1:5432/postgres,
#                      the same server ./infra/test.sh uses)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

readonly scratch_db=pb_schema_gen
admin_url="${PB_TEST_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

have diesel || die "diesel_cli is not installed. Install it with
  cargo install diesel_cli --no-default-features --features postgres
(it links libpq: on Debian/Ubuntu first apt-get install libpq-dev)"
have psql || die "psql is not installed (Debian/Ubuntu: apt-get install postgresql-client)"
have cargo || die "cargo is not installed; see https://rustup.rs"

# The admin URL with its database swapped for the scratch one; user, password,
# host, port and query string stay as they are.
# Expects scheme://[user[:password]@]host[:port][/database][?query].
scheme="${admin_url%%://*}"
rest="${admin_url#*://}"
query=""
if [[ "$rest" == *\?* ]]; then
    query="?${rest#*\?}"
    rest="${rest%%\?*}"
fi
authority="${rest%%/*}"
scratch_url="${scheme}://${authority}/${scratch_db}${query}"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$admin_url" "$@"; }

drop_scratch() {
    psql_admin -c "DROP DATABASE IF EXISTS ${scratch_db} WITH (FORCE)" >/dev/null 2>&1 ||
        printf 'warning: could not drop database %s; drop it by hand\n' "$scratch_db" >&2
}

psql_admin -c 'SELECT 1' >/dev/null ||
    die "cannot connect to the PostgreSQL server of PB_TEST_ADMIN_URL (default: postgres@127.0.0.1:5432).
  Start it (./infra/test.sh sets one up) or point PB_TEST_ADMIN_URL at a superuser URL"

# A leftover from an interrupted run is ours to remove.
psql_admin -c "DROP DATABASE IF EXISTS ${scratch_db} WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE ${scratch_db}" >/dev/null
trap drop_scratch EXIT

echo "running migrations into ${scratch_db} and regenerating backend/store/src/schema.rs"
diesel migration run --database-url "$scratch_url"

# rustfmt.toml's width differs from diesel's output; fmt --check runs in CI.
cargo fmt -p pb-store

echo "done: review \`git diff backend/store/src/schema.rs\`"
