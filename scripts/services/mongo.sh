#!/bin/bash
# A MongoDB-wire server for barks' MongoDB connector tests: SecantusDB 0.7.0b3 (PyPI,
# WiredTiger storage) in its own venv, on 127.0.0.1:$MONGO_PORT (default 57017). It
# presents a one-node replica set; set MONGO_STANDALONE=1 for a plain mongod.
# Idempotent: a running instance is reused. Prints `export BARKS_TEST_MONGO_URL=...` for `eval`.
# Stop: kill "$(cat "${MONGO_DIR:-/tmp/barks-mongo}/mongo.pid")"
set -euo pipefail
MONGO_DIR=${MONGO_DIR:-/tmp/barks-mongo}
MONGO_PORT=${MONGO_PORT:-57017}
VENV=${SECANTUS_VENV:-$HOME/.cache/barks/venv-secantus}

[ -x "$VENV/bin/secantusd-py" ] || {
  python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q "SecantusDB==0.7.0b3" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$MONGO_PORT") 2>/dev/null; }
if ! { [ -f "$MONGO_DIR/mongo.pid" ] && kill -0 "$(cat "$MONGO_DIR/mongo.pid")" 2>/dev/null && port_open; }; then
  rm -rf "$MONGO_DIR"; mkdir -p "$MONGO_DIR"
  EXTRA=(); [ "${MONGO_STANDALONE:-0}" = 1 ] && EXTRA=(--standalone)
  nohup "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$MONGO_DIR/data" \
        --log-level WARNING --cache-size 256M "${EXTRA[@]}" >"$MONGO_DIR/mongo.log" 2>&1 &
  echo $! >"$MONGO_DIR/mongo.pid"
  for _ in $(seq 1 600); do port_open && break; sleep 0.1; done
  port_open || { cat "$MONGO_DIR/mongo.log" >&2; exit 1; }
fi
echo "export BARKS_TEST_MONGO_URL='mongodb://127.0.0.1:$MONGO_PORT/'"
