use barks::prelude::*;

#[barks::job]
fn count_words(lines: Vec<String>) -> u64 {
    pipeline! {
        let lines = parallelize(lines);
        let words = line.flat_map(|l: String| l.split(' ').map(str::to_owned).collect::<Vec<_>>());
        words.count()
    }
}

fn main() {}
