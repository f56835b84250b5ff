#!/usr/bin/env bash
# Peak RSS and time of the sort, groupby and join benchmark jobs against
# input size, under execution memory budgets (BENCHMARKS.md, "Memory budget
# and spilling"). Each run's output is compared with the baseline's.
#
#   scripts/memory-scale.sh [SCALES] [BUDGETS] [JOBS]
#
# defaults: "2 10 20 40", "1g 2g unlimited", "sort groupby join". Data comes
# from bench-data/scale<S> (made with barks-gen, only kv.csv and names.csv
# are needed). Prints one tab-separated line per run:
#   scale  job  budget  job_s  peak_rss_mb  spill_dir_peak_mb  same_as_baseline
set -euo pipefail
cd "$(dirname "$0")/.."

scales=${1:-"2 10 20 40"}
budgets=${2:-"1g 2g unlimited"}
jobs=${3:-"sort groupby join"}
bin=target/bench/release
master=${MASTER:-local[2]}

CARGO_TARGET_DIR=target/bench cargo build --release -q -p examples --features sql \
    --bin barks-bench --bin barks-gen

out=$(mktemp -d)
spill=$(mktemp -d)
trap 'rm -rf "$out" "$spill"' EXIT

# While process $1 runs, sampled: the largest peak RSS (VmHWM) of its
# child processes' children (the workers a local-cluster starts under
# /usr/bin/time) and the most megabytes under $spill; prints both.
watch() {
    local disk=0 workers=0 now pid hwm
    while kill -0 "$1" 2>/dev/null; do
        # (du fails when a file goes while it counts: keep the last peak.)
        now=$(du -sm "$spill" 2>/dev/null | cut -f1) || now=0
        ((now > disk)) && disk=$now
        for pid in $(pgrep -P "$(pgrep -P "$1" | head -1)" 2>/dev/null || true); do
            hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null) || hwm=0
            ((${hwm:-0} > workers)) && workers=$hwm
        done
        sleep 0.2
    done
    echo "$workers $disk"
}

printf 'scale\tjob\tbudget\tjob_s\tpeak_rss_mb\tworker_peak_rss_mb\tspill_dir_peak_mb\tsame_as_baseline\n'
for scale in $scales; do
    data=bench-data/scale$scale
    [ -f "$data/kv.csv" ] || "$bin/barks-gen" --out "$data" --scale "$scale"
    for job in $jobs; do
        "$bin/barks-bench" "$job" --data "$data" --out "$out/baseline" \
            --master "$master" --baseline >/dev/null
        for budget in $budgets; do
            rm -rf "$out/barks"
            BARKS_MEMORY=$budget BARKS_SPILL_DIR=$spill /usr/bin/time -v \
                "$bin/barks-bench" "$job" --data "$data" --out "$out/barks" \
                --master "$master" >"$out/stdout" 2>"$out/stderr" &
            pid=$!
            read -r workers disk < <(watch "$pid")
            wait "$pid" || { cat "$out/stderr" >&2; exit 1; }
            secs=$(sed -n 's/^RESULT {"job_s": \(.*\)}$/\1/p' "$out/stdout")
            rss=$(awk '/Maximum resident set size/ {print int($6 / 1024)}' "$out/stderr")
            same=no
            cmp -s "$out/barks/$job.tsv" "$out/baseline/$job.tsv" && same=yes
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scale" "$job" "$budget" "$secs" "$rss" "$workers" "$disk" "$same"
        done
    done
done
