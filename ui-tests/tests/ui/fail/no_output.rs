use barks::prelude::*;

#[barks::job]
fn evens(n: i64) -> Vec<i64> {
    pipeline! {
        let numbers = range(n);
        let evens = numbers.filter(|x| x % 2 == 0);
    }
}

fn main() {}
