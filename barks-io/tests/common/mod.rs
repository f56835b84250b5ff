//! Helpers shared by the file-format tests: running a pipeline locally and
//! running Python (the independent reference that writes and reads files).

#![allow(dead_code)]

use barks_runtime::{Context, Output, Result};
use std::path::Path;
use std::process::Command;

/// Runs `pipeline` on `local[2]`.
pub fn run<R: 'static>(pipeline: impl FnOnce() -> Output<R>) -> Result<R> {
    Context::new("local[2]")?.run(pipeline)
}

/// The start of a Python script that uses pyarrow: imports it, or exits
/// saying how to install it.
pub const PYARROW: &str = "import sys\ntry:\n    import pyarrow as pa, pyarrow.parquet as pq\nexcept ImportError:\n    sys.exit('pyarrow is missing: run `python3 -m pip install pyarrow` (scripts/test.sh does)')\n";

/// Runs a Python 3 script with `args`; panics with its stderr if it fails.
/// Returns its stdout.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 must be installed to run the file-format tests");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python3 printed UTF-8")
}

/// Asserts that `got` is `expected`, naming the first row that differs.
pub fn assert_same_rows<T: PartialEq + std::fmt::Debug>(got: &[T], expected: &[T], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: row count");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[i]) {
        panic!("{what}: row {i}: {:?} != {:?}", got[i], expected[i]);
    }
}

/// A path as a `&str`.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// The part files of an output directory, sorted.
pub fn parts(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    files.sort();
    files
}

/// The first `lines` lines of `text` and its last line (each ending in a
/// newline): a file whose only bad line is line `lines`, when that is the
/// first bad line of `text` and the last line is good.
pub fn with_only_the_first_bad_line(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[..lines]
        .iter()
        .chain(all.last())
        .map(|l| format!("{l}\n"))
        .collect()
}
