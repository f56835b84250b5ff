//! Input strategies shared by the local and the cluster operator tests,
//! and [`files_under`] for the tests that look for spill files.

use proptest::collection::vec;
use proptest::prelude::*;

/// Small values with many duplicates; often empty or shorter than the
/// partition count.
pub fn values() -> impl Strategy<Value = Vec<i32>> {
    prop_oneof![
        1 => Just(Vec::new()),
        2 => vec(-20i32..20, 0..8),
        4 => vec(-20i32..20, 0..80),
    ]
}

/// Key-value records: uniform keys, or 80% of the records on key 0.
pub fn pairs() -> impl Strategy<Value = Vec<(u8, i32)>> {
    let uniform = vec((0u8..10, -50i32..50), 0..80);
    let skewed = vec(
        (prop::bool::weighted(0.8), 0u8..10, -50i32..50)
            .prop_map(|(hot, k, v)| (if hot { 0 } else { k }, v)),
        0..80,
    );
    prop_oneof![1 => Just(Vec::new()), 3 => uniform, 3 => skewed]
}

/// Every file under `dir`, recursively (none if it does not exist).
#[allow(dead_code)] // Not every test binary that includes this module uses it.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
