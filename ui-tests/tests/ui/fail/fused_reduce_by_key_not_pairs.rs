use barks::prelude::*;

// `map` then `reduce_by_key` fuse into one node (the map feeds the
// map-side combiner); the error still points at `reduce_by_key`.
#[barks::job]
fn totals(words: Vec<String>) -> Vec<(String, u64)> {
    pipeline! {
        let text = parallelize(words);
        let totals = text.map(|w: String| w.to_uppercase()).reduce_by_key(|a, b| a + b);
        totals.collect()
    }
}

fn main() {}
