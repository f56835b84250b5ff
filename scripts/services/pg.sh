#!/bin/bash
# PostgreSQL 15 for barks' PostgreSQL connector tests: a throwaway cluster on 127.0.0.1.
#
# Installs the Debian package if missing, runs initdb + pg_ctl as user `postgres` when
# started as root (the server refuses to run as root), picks a free port (from $PG_PORT,
# default 55439, upwards), creates the role `barks` (password auth over TCP, so a wrong
# password is really refused) and the database `barks_test`. Idempotent: a running instance
# is reused. Prints `export BARKS_TEST_PG_URL=...` for `eval`.
# Stop: pg_ctl -D "${PG_DIR:-/tmp/barks-pg}/data" -m fast stop (as user postgres when root)
set -euo pipefail
PG_DIR=${PG_DIR:-/tmp/barks-pg}
PG_PORT=${PG_PORT:-55439}
PG_USER=barks
PG_PASSWORD=${PG_PASSWORD:-barks-pw}
PG_DB=barks_test

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
[ -n "$(pg_bin)" ] || {
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2; }
PGBIN=$(pg_bin)
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); OWNER=postgres; else AS=(); OWNER=$(id -un); fi
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -f "$PG_DIR/port" ] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
  PG_PORT=$(cat "$PG_DIR/port")
else
  [ -d "$PG_DIR/data" ] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"; install -d -o "$OWNER" "$PG_DIR"
  while port_open "$PG_PORT"; do PG_PORT=$((PG_PORT + 1)); done
  "${AS[@]}" "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
     -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/pg.log" -w -t 60 \
     -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
     start >/dev/null
  echo "$PG_PORT" >"$PG_DIR/port"
  psql_admin() { "${AS[@]}" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres "$@"; }
  psql_admin -d postgres -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'" \
             -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2
fi
head -1 "$PG_DIR/data/postmaster.pid" >"$PG_DIR/pg.pid"
echo "export BARKS_TEST_PG_URL='postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB'"
