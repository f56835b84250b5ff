#!/usr/bin/env bash
# Runs every test of barks: unit, integration, property, doc and ui (trybuild)
# tests, with every connector feature on. This is the README's test command
# and what CI runs (.ci/run).
#
# The connector tests run against real servers on 127.0.0.1, which this
# script installs (apt, PyPI, crates.io) and starts when they are missing:
# PostgreSQL, Ceph RADOS Gateway (S3), SecantusDB (MongoDB wire protocol) and
# iridium (a TDS server for SQL Server smoke tests). The servers start in the
# background while the tests compile. The file-format tests use pyarrow and
# Python's csv/json modules as their independent reference.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
export CARGO_TERM_COLOR=never

logs=$(mktemp -d)
start() { # start NAME: runs scripts/services/NAME.sh in the background
    bash "scripts/services/$1.sh" > "$logs/$1.env" 2> "$logs/$1.log" &
    echo $! > "$logs/$1.pid"
}
for service in pg s3-rgw mongo mssql; do start "$service"; done

python3 -c 'import pyarrow' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyarrow

cargo test --workspace --all-features --locked --no-run

for service in pg s3-rgw mongo mssql; do
    if ! wait "$(cat "$logs/$service.pid")"; then
        echo "scripts/services/$service.sh failed:" >&2
        tail -30 "$logs/$service.log" >&2
        exit 1
    fi
    # shellcheck disable=SC1090
    source "$logs/$service.env"
done

cargo test --workspace --all-features --locked
