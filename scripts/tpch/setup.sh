#!/usr/bin/env bash
# TPC-H reference data for barks-sql's tests.
#
#   bash scripts/tpch/setup.sh [--scale SF] [--dir DIR]
#
# 1. pip-installs tpchgen-cli and duckdb if they are missing,
# 2. generates the 8 TPC-H tables as Parquet, one file per table:
#    DIR/<table>.parquet (tpchgen-cli's default layout),
# 3. runs barks-sql/tests/tpch/queries/q1..q22.sql on DuckDB over those files
#    and writes the answers to DIR/answers/qN.json (see duckdb_answers.py),
# 4. prints DIR (absolute) as the last line of stdout. Progress goes to stderr.
#
# SF defaults to 0.1, DIR to target/tpch/sf$SF under the repository root (a
# relative --dir is taken from the current directory).
# Idempotent: each step writes a marker last and is skipped when its marker
# is present and current (the answers' marker records a hash of the queries
# and of duckdb_answers.py, so editing a query recomputes them), so an
# interrupted run redoes only what was not finished. Concurrent runs (parallel
# test processes) serialize on a flock in target/tpch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCALE="0.1"
DIR=""
TPCHGEN_VERSION="4.0.0"

usage() {
    echo "usage: $0 [--scale SF] [--dir DIR]" >&2
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) [[ $# -ge 2 ]] || usage; SCALE="$2"; shift 2 ;;
        --scale=*) SCALE="${1#*=}"; shift ;;
        --dir) [[ $# -ge 2 ]] || usage; DIR="$2"; shift 2 ;;
        --dir=*) DIR="${1#*=}"; shift ;;
        -h|--help) usage ;;
        *) echo "setup.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[[ "$SCALE" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "setup.sh: bad --scale: $SCALE" >&2; exit 2; }
if [[ -z "$DIR" ]]; then
    DIR="$ROOT/target/tpch/sf$SCALE"
elif [[ "$DIR" != /* ]]; then
    DIR="$PWD/$DIR"
fi

log() { echo "tpch setup: $*" >&2; }

# One setup at a time, whichever DIR: test binaries run in parallel.
mkdir -p "$ROOT/target/tpch" "$DIR"
exec 9>"$ROOT/target/tpch/.setup.lock"
flock 9

export PIP_ROOT_USER_ACTION=ignore
pip_install() {
    log "pip install $*"
    python3 -m pip install --quiet --disable-pip-version-check "$@" >&2 ||
        python3 -m pip install --quiet --disable-pip-version-check --user "$@" >&2
}

# tpchgen-cli is a Rust binary shipped in a wheel (no Python module): pip puts
# it in the interpreter's scripts directory, or the user one with --user.
find_tpchgen() {
    local p dirs
    if p="$(command -v tpchgen-cli 2>/dev/null)" && "$p" --version >/dev/null 2>&1; then
        echo "$p"
        return 0
    fi
    dirs="$(python3 - <<'EOF'
import os, sysconfig
print(sysconfig.get_path("scripts"))
for scheme in (f"{os.name}_user", "posix_user"):
    try:
        print(sysconfig.get_path("scripts", scheme))
    except KeyError:
        pass
EOF
)"
    while IFS= read -r d; do
        if [[ -n "$d" && -x "$d/tpchgen-cli" ]]; then
            echo "$d/tpchgen-cli"
            return 0
        fi
    done <<<"$dirs"
    if [[ -x "$HOME/.local/bin/tpchgen-cli" ]]; then
        echo "$HOME/.local/bin/tpchgen-cli"
        return 0
    fi
    return 1
}

if ! python3 -c 'import duckdb' >/dev/null 2>&1; then
    pip_install duckdb
    python3 -c 'import duckdb' || { echo "setup.sh: duckdb still not importable" >&2; exit 1; }
fi
if ! TPCHGEN="$(find_tpchgen)"; then
    pip_install "tpchgen-cli==$TPCHGEN_VERSION"
    TPCHGEN="$(find_tpchgen)" || { echo "setup.sh: tpchgen-cli not found after pip install" >&2; exit 1; }
fi

TABLES=(customer lineitem nation orders part partsupp region supplier)

# Data.
DATA_MARKER="$DIR/.tpch-data-complete"
DATA_STAMP="scale=$SCALE layout=single-file-per-table format=parquet"
if [[ -f "$DATA_MARKER" && "$(cat "$DATA_MARKER")" == "$DATA_STAMP" ]]; then
    log "data already in $DIR"
else
    rm -f "$DATA_MARKER"
    rm -rf "$DIR/answers"
    log "generating TPC-H SF $SCALE with $TPCHGEN ($("$TPCHGEN" --version 2>/dev/null || echo '?')) into $DIR"
    "$TPCHGEN" parquet --scale-factor "$SCALE" --output-dir "$DIR" --overwrite --quiet >&2
    for t in "${TABLES[@]}"; do
        [[ -s "$DIR/$t.parquet" ]] || { echo "setup.sh: tpchgen-cli did not write $DIR/$t.parquet" >&2; exit 1; }
    done
    printf '%s' "$DATA_STAMP" >"$DATA_MARKER"
fi

# Answers.
QUERIES="$ROOT/barks-sql/tests/tpch/queries"
ANSWERS="$DIR/answers"
ANSWERS_MARKER="$ANSWERS/.complete"
ANSWERS_STAMP="$(
    cd "$ROOT"
    {
        for n in $(seq 1 22); do cat "$QUERIES/q$n.sql"; done
        cat scripts/tpch/duckdb_answers.py
        python3 -c 'import duckdb; print(duckdb.__version__)'
    } | sha256sum | cut -d' ' -f1
)"
if [[ -f "$ANSWERS_MARKER" && "$(cat "$ANSWERS_MARKER")" == "$ANSWERS_STAMP" ]]; then
    log "answers already in $ANSWERS"
else
    rm -f "$ANSWERS_MARKER"
    log "computing reference answers with DuckDB into $ANSWERS"
    python3 "$ROOT/scripts/tpch/duckdb_answers.py" --data "$DIR" --queries "$QUERIES" --out "$ANSWERS"
    printf '%s' "$ANSWERS_STAMP" >"$ANSWERS_MARKER"
fi

echo "$DIR"
