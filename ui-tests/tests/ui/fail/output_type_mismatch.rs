use barks::prelude::*;

#[barks::job]
fn how_many(n: i64) -> Vec<i64> {
    pipeline! {
        let numbers = range(n);
        numbers.count()
    }
}

fn main() {}
