#!/bin/bash
# A TDS (SQL Server wire protocol) server for barks' SQL Server connector tests:
# iridium_server 0.1.13 from crates.io. It is NOT SQL Server but an independent T-SQL
# engine; with tiberius it supports, with encryption off: login, CREATE TABLE and
# parameterised INSERT/SELECT of ints, strings and floats. See the README for what
# cannot be tested against it.
#
# Installs the binary once into ~/.cargo/bin (about 5 min of CPU), then reuses it. Starts on
# 127.0.0.1:$MSSQL_PORT (default 51433) with an in-memory store, reusing a running
# instance, and prints `export BARKS_TEST_MSSQL_URL=...` for `eval`.
# Stop: kill "$(cat "${MSSQL_DIR:-/tmp/barks-mssql}/mssql.pid")"
set -euo pipefail
MSSQL_DIR=${MSSQL_DIR:-/tmp/barks-mssql}
MSSQL_PORT=${MSSQL_PORT:-51433}
MSSQL_USER=${MSSQL_USER:-sa}
MSSQL_PASSWORD=${MSSQL_PASSWORD:-Barks@12345}
BIN="${CARGO_HOME:-$HOME/.cargo}/bin/iridium-server"

[ -x "$BIN" ] || env -u CARGO_TARGET_DIR cargo install iridium_server --version 0.1.13 --locked --bin iridium-server -q >&2

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$MSSQL_PORT") 2>/dev/null; }
mkdir -p "$MSSQL_DIR"
if ! { [ -f "$MSSQL_DIR/mssql.pid" ] && kill -0 "$(cat "$MSSQL_DIR/mssql.pid")" 2>/dev/null && port_open; }; then
  nohup "$BIN" --host 127.0.0.1 --port "$MSSQL_PORT" -u "$MSSQL_USER" -P "$MSSQL_PASSWORD" \
        --no-tls --memory >"$MSSQL_DIR/mssql.log" 2>&1 &
  echo $! >"$MSSQL_DIR/mssql.pid"
  for _ in $(seq 1 300); do port_open && break; sleep 0.1; done
  port_open || { cat "$MSSQL_DIR/mssql.log" >&2; exit 1; }
fi
echo "export BARKS_TEST_MSSQL_URL='server=tcp:127.0.0.1,$MSSQL_PORT;user=$MSSQL_USER;password=$MSSQL_PASSWORD;encrypt=DANGER_PLAINTEXT'"
