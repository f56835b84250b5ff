#!/usr/bin/env bash
# Runs every test of barks: unit, integration, property, doc and ui (trybuild)
# tests. This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
export CARGO_TERM_COLOR=never
cargo test --workspace --locked
