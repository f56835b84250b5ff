#!/usr/bin/env bash
# Builds barks the way a user's crate does: a scratch crate that depends on
# the facade `barks` by path (default features: no connector), WITHOUT
# barks' Cargo.lock, so cargo resolves the newest semver-compatible version
# of every dependency. It is built with `-D warnings`: cargo caps lints of
# registry dependencies (`--cap-lints`), so only the path crates (barks,
# barks-runtime, barks-io, barks-macros, and the scratch crate with its
# `#[barks::job]` / `pipeline!` expansion) fail on a warning, e.g. a
# deprecation that a newer dependency release introduced. Then it runs the
# scratch job once.
#
# Needs crates.io (it resolves and downloads the newest versions).
# The build goes to $CARGO_TARGET_DIR if set (keep it apart from the
# workspace's target/: other dependency versions and RUSTFLAGS would rebuild
# everything there), else into the scratch directory, removed at exit.
# Cargo's own variables apply (e.g. CARGO_BUILD_JOBS=1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

mkdir "$scratch/src"
# The pinned toolchain: rustup looks for it from the scratch directory.
cp "$root/rust-toolchain.toml" "$scratch/"
cat > "$scratch/Cargo.toml" <<EOF
[package]
name = "barks-newest-deps"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
barks = { path = "$root" }

# Its own workspace, with its own (fresh) lockfile.
[workspace]
EOF
cat > "$scratch/src/main.rs" <<'EOF'
use barks::prelude::*;

#[barks::job]
fn mentions(lines: Vec<String>, word: String, min: usize) -> Vec<(String, usize)> {
    pipeline! {
        let counts = parallelize(lines, 2)
            .filter(|s: &String| s.contains(&word))
            .map(|s| (s, 1usize))
            .reduce_by_key(|a, b| a + b)
            .filter(|(_, n)| *n >= min);
        counts.collect()
    }
}

fn main() -> barks::Result<()> {
    let lines = ["a dog", "a cat", "a dog", "no"].map(String::from).to_vec();
    let got = mentions(lines, "a".into(), 2).run_on("local[2]")?;
    assert_eq!(got, [("a dog".to_string(), 2)]);
    println!("scratch job ok: {got:?}");
    Ok(())
}
EOF

cd "$scratch"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$scratch/target}
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-D warnings"
cargo generate-lockfile

# What resolves newer than barks' Cargo.lock pins (for the log).
newer=$(awk '
    FNR == 1 || /^\[\[package\]\]/ { name = "" }
    /^name = / { name = $3 }
    /^version = / && name != "" {
        v = $3
        if (FNR == NR) locked[name] = locked[name] " " v
        else if (name in locked && index(locked[name] " ", " " v " ") == 0) print name locked[name] " -> " v
    }
' "$root/Cargo.lock" Cargo.lock | tr -d '"' | sort -u)
if [ -n "$newer" ]; then
    echo "newer than barks' Cargo.lock:"
    echo "$newer" | sed 's/^/  /'
fi

cargo build
cargo run --quiet
