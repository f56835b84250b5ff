use barks::prelude::*;

#[barks::job]
fn word_count(lines: Vec<String>) -> Vec<(String, u64)> {
    pipeline! {
        let text = parallelize(lines);
        let counts = text
            .flatMap(|l: String| l.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduceByKey(|a, b| a + b);
        counts.collect()
    }
}

fn main() {}
