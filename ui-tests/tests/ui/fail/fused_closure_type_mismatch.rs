use barks::prelude::*;

#[barks::job]
fn lengths(lines: Vec<String>) -> Vec<usize> {
    pipeline! {
        let lines = parallelize(lines);
        let lengths = lines.map(|l: String| l.len()).filter(|l: &String| !l.is_empty());
        lengths.collect()
    }
}

fn main() {}
