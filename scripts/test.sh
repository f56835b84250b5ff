#!/usr/bin/env bash
# Runs every test of barks: formatting and clippy (`-D warnings`), unit,
# integration, property, doc and ui (trybuild) tests with every connector
# feature on, the layering test (barks-runtime/tests/layers.rs), and a build
# of the facade on the newest semver-compatible dependencies. This is the README's test command
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
start() { # start NAME...: runs scripts/services/NAME.sh, one after the other, in the background
    local first=$1
    (
        for service in "$@"; do
            bash "scripts/services/$service.sh" >> "$logs/$first.env" 2>> "$logs/$first.log" || exit 1
        done
    ) &
    echo $! > "$logs/$first.pid"
}
start pg s3-rgw # both may need apt, which takes one installer at a time
start mongo
start mssql

python3 -c 'import pyarrow' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyarrow

disk() { echo "disk $1: $(df -h . | awk 'NR==2 {print $4 " free of " $2}'), target/ $(du -sh target 2>/dev/null | cut -f1)"; }
# Formatting and lints first: they fail in seconds, before the long build.
cargo fmt --all --check
disk "before the build"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo test --workspace --all-features --locked --no-run
disk "after the build"

for service in pg mongo mssql; do
    if ! wait "$(cat "$logs/$service.pid")"; then
        echo "starting the services from scripts/services/$service.sh failed:" >&2
        tail -30 "$logs/$service.log" >&2
        exit 1
    fi
    # shellcheck disable=SC1090
    source "$logs/$service.env"
done

cargo test --workspace --all-features --locked

# A user's crate resolves the newest compatible dependencies, not our
# lockfile: barks must build without warnings there too.
CARGO_TARGET_DIR="$PWD/target/newest-deps" bash scripts/check_newest_deps.sh
