#!/usr/bin/env bash
# A real S3 server for barks' tests: Ceph RADOS Gateway (Debian's ceph 16.2) on a throwaway
# single-node cluster — one monitor and one OSD keeping its data in RAM (memstore) — listening
# on 127.0.0.1:$BARKS_RGW_PORT (default 7480).
#
#   eval "$(scripts/services/s3-rgw.sh)"     # install if missing, start or reuse, print exports
#   scripts/services/s3-rgw.sh stop          # stop it (the data is gone: it lived in RAM)
#
# Prints `export BARKS_TEST_S3_ENDPOINT=... BARKS_S3_ENDPOINT=... AWS_ACCESS_KEY_ID=...
# AWS_SECRET_ACCESS_KEY=... AWS_REGION=us-east-1` for `eval` (BARKS_S3_ENDPOINT points every
# `s3://` path at the gateway); everything else goes to stderr. Idempotent: a gateway that is
# already running from $BARKS_CEPH_DIR and answers is reused. Installing needs root (CI is root);
# Ceph itself runs as the calling user. Tests create their own buckets.
set -euo pipefail
D=${BARKS_CEPH_DIR:-/tmp/barks-ceph}
PORT=${BARKS_RGW_PORT:-7480}
MON_PORT=${BARKS_CEPH_MON_PORT:-3300}
AK=${BARKS_RGW_ACCESS_KEY:-barks-test}
SK=${BARKS_RGW_SECRET_KEY:-barks-test-secret}
export CEPH_CONF="$D/ceph.conf"
ENDPOINT="http://127.0.0.1:$PORT"

log() { echo "s3-rgw: $*" >&2; }

print_exports() {
  echo "export BARKS_TEST_S3_ENDPOINT=$ENDPOINT"
  echo "export BARKS_S3_ENDPOINT=$ENDPOINT"
  echo "export AWS_ACCESS_KEY_ID=$AK"
  echo "export AWS_SECRET_ACCESS_KEY=$SK"
  echo "export AWS_REGION=us-east-1"
}

# Is the daemon whose pid file is `$D/run/$1.pid` alive?
alive() { [ -f "$D/run/$1.pid" ] && kill -0 "$(cat "$D/run/$1.pid")" 2>/dev/null; }

stop_all() {
  for n in client.rgw.a osd.0 mon.a; do
    alive "$n" || continue
    p=$(cat "$D/run/$n.pid"); kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
  done
}

# Creates the test user unless it exists already (its keys are fixed, so reuse is safe).
ensure_user() {
  timeout 60 radosgw-admin user info --uid=barks >/dev/null 2>&1 && return 0
  timeout 60 radosgw-admin user create --uid=barks --display-name=barks-tests \
    --access-key="$AK" --secret-key="$SK" --max-buckets=10000 >/dev/null
}

if [ "${1:-}" = stop ]; then stop_all; log "stopped"; exit 0; fi

if alive client.rgw.a && alive osd.0 && alive mon.a && curl -s -o /dev/null "$ENDPOINT/"; then
  ensure_user
  log "reusing the gateway running at $ENDPOINT"
  print_exports
  exit 0
fi

command -v radosgw >/dev/null && command -v ceph-osd >/dev/null && command -v ceph-mon >/dev/null \
  && command -v radosgw-admin >/dev/null && command -v curl >/dev/null || {
  log "installing ceph-mon ceph-osd radosgw ceph-common (about a minute)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ceph-mon ceph-osd radosgw ceph-common curl >/dev/null
}

stop_all
rm -rf "$D"; mkdir -p "$D"/{mon,osd,run,log,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
# `ms * mode = crc`: without it radosgw hangs talking to the monitor (secure mode needs auth).
cat >"$CEPH_CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT/0
public network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc
ms service mode = crc
ms cluster mode = crc
ms mon cluster mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
keyring = $D/keyring
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd max object name len = 256
osd max object namespace len = 64
mon max pg per osd = 1000
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = localhost
CONF

log "starting a monitor, an in-memory OSD and radosgw in $D"
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" >"$D/log/mon-mkfs.out" 2>&1
ceph-mon -i a </dev/null >>"$D/log/mon-start.out" 2>&1
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(timeout 60 ceph osd new "$OSD_UUID")
mkdir -p "$D/osd/ceph-$OSD_ID"
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >"$D/log/osd-mkfs.out" 2>&1
ceph-osd -i "$OSD_ID" </dev/null >>"$D/log/osd-start.out" 2>&1
# Daemons get their own stdio so that `$(...)` and pipes around this script do not wait for them.
timeout 120 radosgw -n client.rgw.a </dev/null >>"$D/log/rgw-start.out" 2>&1
for _ in $(seq 1 600); do curl -s -o /dev/null "$ENDPOINT/" && break; sleep 0.1; done
curl -s -o /dev/null "$ENDPOINT/" || { log "radosgw did not answer at $ENDPOINT; see $D/log"; exit 1; }
ensure_user
log "ready at $ENDPOINT"
print_exports
