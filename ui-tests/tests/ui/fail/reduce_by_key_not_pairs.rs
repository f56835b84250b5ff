use barks::prelude::*;

#[barks::job]
fn totals(words: Vec<String>) -> Vec<(String, u64)> {
    pipeline! {
        let text = parallelize(words);
        let totals = text.reduce_by_key(|a, b| a + b);
        totals.collect()
    }
}

fn main() {}
