#!/usr/bin/env bash
# Fuzzes barks' wire decoders for a bounded time on stable Rust.
#   fuzz/run.sh [SECONDS]      (default 60)
# Installs cargo-fuzz if missing. `-s none`: no sanitizer, which stable rustc
# cannot enable (the code under test is safe Rust). New inputs go to a
# scratch directory; the committed corpus in corpus/frame_decode is only read.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cargo fuzz run -s none frame_decode "$scratch" corpus/frame_decode -- \
    -max_total_time="$seconds" -max_len=4096
