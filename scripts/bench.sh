#!/usr/bin/env bash
# Benchmarks barks against the hand-written baseline (shared/BENCHMARKS.md).
#
#   scripts/bench.sh [JOB...]
#
# Builds release, generates the inputs into $BENCH_DATA (default ./bench-data,
# at scale $BENCH_SCALE, default 1; skipped when already there), then runs
# every job (or the JOBs given) barks and baseline interleaved $BENCH_RUNS
# times (default 3) on $BENCH_MASTER (default local[2]). Prints a markdown
# table of median job seconds (the RESULT line each run prints), their
# ratio, and the peak resident memory (/usr/bin/time -v) of each side.
# Raw runs go to $BENCH_OUT/runs.tsv (default ./bench-out).
#
# BENCH_COMPARE=MASTER compares barks on $BENCH_MASTER with barks on MASTER
# instead of the baseline, e.g. cluster against local mode:
#   BENCH_MASTER='local-cluster[2,1]' BENCH_COMPARE='local[2]' scripts/bench.sh wordcount groupby sort
# (peak memory is then the driver's only: workers are separate processes).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${BENCH_DATA:-bench-data}
SCALE=${BENCH_SCALE:-1}
RUNS=${BENCH_RUNS:-3}
MASTER=${BENCH_MASTER:-local[2]}
OUT=${BENCH_OUT:-bench-out}
COMPARE=${BENCH_COMPARE:-}
OTHER=${COMPARE:-baseline}
JOBS=("$@")
[ ${#JOBS[@]} -gt 0 ] || JOBS=(empty wordcount wordcount-chain groupby join sort pagerank kmeans)

if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time for peak memory" >&2
    apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

cargo build --release --locked -p examples --bin barks-bench --bin barks-gen >&2
BIN=target/release

if [ -f "$DATA/.complete" ] && [ "$(cat "$DATA/.complete")" = "scale=$SCALE" ]; then
    echo "using the data in $DATA (scale $SCALE)" >&2
else
    rm -rf "$DATA"
    "$BIN/barks-gen" --out "$DATA" --scale "$SCALE" >&2
    echo "scale=$SCALE" > "$DATA/.complete"
fi

mkdir -p "$OUT"
RAW="$OUT/runs.tsv"
printf 'job\tmode\trun\tjob_s\tpeak_kb\n' > "$RAW"

# run JOB MODE RUN: one timed process; appends to $RAW.
run() {
    local job=$1 mode=$2 i=$3 flag=(--master "$MASTER") log="$OUT/$1.$2.log"
    if [ "$mode" = other ]; then
        if [ -n "$COMPARE" ]; then flag=(--master "$COMPARE"); else flag=(--master "$MASTER" --baseline); fi
    fi
    rm -rf "$OUT/$mode" && mkdir -p "$OUT/$mode"
    if ! /usr/bin/time -v "$BIN/barks-bench" "$job" --data "$DATA" --out "$OUT/$mode" \
        "${flag[@]}" > "$log" 2>&1; then
        echo "FAILED: $job ($mode); see $log" >&2
        tail -5 "$log" >&2
        exit 1
    fi
    local secs kb
    secs=$(sed -n 's/^RESULT {"job_s": \([0-9.e+-]*\)}$/\1/p' "$log" | tail -1)
    kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): \([0-9]*\)$/\1/p' "$log")
    printf '%s\t%s\t%s\t%s\t%s\n' "$job" "$mode" "$i" "$secs" "$kb" >> "$RAW"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -F'\t' -v j="$1" -v m="$2" -v c="$3" '$1==j && $2==m {print $c}' "$RAW"; }

for job in "${JOBS[@]}"; do
    for i in $(seq "$RUNS"); do
        echo "$job run $i/$RUNS" >&2
        run "$job" barks "$i"
        run "$job" other "$i"
    done
    if ! cmp -s "$OUT/barks/$job.tsv" "$OUT/other/$job.tsv"; then
        echo "note: $job outputs differ in bytes (floats may differ in the last digits; the equivalence test checks 1e-6)" >&2
    fi
done

echo
echo "scale $SCALE, master $MASTER, median of $RUNS interleaved runs, $(nproc) cores"
echo
echo "| job | barks s | $OTHER s | ratio | barks peak MB | $OTHER peak MB |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for job in "${JOBS[@]}"; do
    b=$(col "$job" barks 4 | median)
    r=$(col "$job" other 4 | median)
    bm=$(col "$job" barks 5 | sort -n | tail -1)
    rm_=$(col "$job" other 5 | sort -n | tail -1)
    awk -v j="$job" -v b="$b" -v r="$r" -v bm="$bm" -v rm="$rm_" 'BEGIN {
        printf "| %s | %.3f | %.3f | %.2f | %.0f | %.0f |\n", j, b, r, (r > 0 ? b / r : 0), bm / 1024, rm / 1024 }'
done
