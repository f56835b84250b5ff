use barks::prelude::*;

#[barks::job]
fn lines(path: String) -> u64 {
    pipeline! {
        let lines = textFile(path);
        lines.count()
    }
}

fn main() {}
