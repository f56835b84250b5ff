use barks::prelude::*;

#[barks::job]
fn lines(path: String) -> u64 {
    pipeline! {
        let lines = text_file(path, 4, true);
        lines.count()
    }
}

fn main() {}
