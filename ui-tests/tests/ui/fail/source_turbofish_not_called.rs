use barks::prelude::*;

#[barks::job]
fn rows(path: String) -> u64 {
    pipeline! {
        let rows = csv_file::<(String, i64)>;
        rows.count()
    }
}

fn main() {}
