//! The README's `flat_map_reduce_by_key` example inside `pipeline!`: the
//! closure's `words` parameter needs no type, and keys are `&str` slices of
//! the line.
use barks::prelude::*;

#[barks::job]
fn word_counts(lines: Vec<String>) -> Vec<(String, u64)> {
    pipeline! {
        let lines = parallelize(lines);
        let counts = lines.flat_map_reduce_by_key(
            |line: String, words| {
                for w in line.split_whitespace() {
                    words.emit(w, 1u64);
                }
            },
            |a, b| a + b,
        );
        counts.collect()
    }
}

fn main() {
    let lines = vec!["a b a".to_string(), String::new(), "c b a".to_string()];
    let mut counts = word_counts(lines).run_on("local[2]").unwrap();
    counts.sort();
    assert_eq!(counts, [("a".into(), 3), ("b".into(), 2), ("c".into(), 1)]);
}
