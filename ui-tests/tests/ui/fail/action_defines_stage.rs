use barks::prelude::*;

#[barks::job]
fn total(n: i64) -> u64 {
    pipeline! {
        let numbers = range(n);
        let total = numbers.count();
        total.collect()
    }
}

fn main() {}
