#!/bin/bash
# A MongoDB-wire server for barks' MongoDB connector tests: SecantusDB 0.7.0b3 (PyPI,
# WiredTiger storage) in its own venv, on 127.0.0.1:$MONGO_PORT (default 57017), with
# SCRAM authentication on (user `barks`, so a wrong password is really refused). It
# presents a one-node replica set (transactions work); MONGO_STANDALONE=1 for a plain mongod.
# Idempotent: a running instance is reused. Prints `export BARKS_TEST_MONGO_URL=...` for `eval`.
# Stop: kill "$(cat "${MONGO_DIR:-/tmp/barks-mongo}/mongo.pid")"
set -euo pipefail
MONGO_DIR=${MONGO_DIR:-/tmp/barks-mongo}
MONGO_PORT=${MONGO_PORT:-57017}
MONGO_USER=barks
MONGO_PASSWORD=${MONGO_PASSWORD:-barks-pw}
VENV=${SECANTUS_VENV:-$HOME/.cache/barks/venv-secantus}

[ -x "$VENV/bin/secantusd-py" ] || {
  python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q "SecantusDB==0.7.0b3" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$MONGO_PORT") 2>/dev/null; }
# start [--auth]: runs the server in the background and waits for its port.
start() {
  EXTRA=(); [ "${MONGO_STANDALONE:-0}" = 1 ] && EXTRA=(--standalone)
  nohup "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$MONGO_DIR/data" \
        --log-level WARNING --cache-size 256M "${EXTRA[@]}" "$@" >>"$MONGO_DIR/mongo.log" 2>&1 &
  echo $! >"$MONGO_DIR/mongo.pid"
  for _ in $(seq 1 600); do port_open && return 0; sleep 0.1; done
  cat "$MONGO_DIR/mongo.log" >&2; exit 1
}
if ! { [ -f "$MONGO_DIR/mongo.pid" ] && kill -0 "$(cat "$MONGO_DIR/mongo.pid")" 2>/dev/null && port_open; }; then
  [ -f "$MONGO_DIR/mongo.pid" ] && kill "$(cat "$MONGO_DIR/mongo.pid")" 2>/dev/null || true
  rm -rf "$MONGO_DIR"; mkdir -p "$MONGO_DIR"
  # Provision the user without auth, then restart with --auth.
  start
  "$VENV/bin/python" - "$MONGO_PORT" "$MONGO_USER" "$MONGO_PASSWORD" <<'PY' >&2
import sys, pymongo
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
client = pymongo.MongoClient("127.0.0.1", port, directConnection=True)
client.admin.command("createUser", user, pwd=password, roles=["root"])
PY
  pid=$(cat "$MONGO_DIR/mongo.pid"); kill "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  start --auth
fi
echo "export BARKS_TEST_MONGO_URL='mongodb://$MONGO_USER:$MONGO_PASSWORD@127.0.0.1:$MONGO_PORT/?authSource=admin'"
