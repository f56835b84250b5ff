use barks::prelude::*;

#[barks::job]
fn evens(n: i64) -> Vec<i64> {
    pipeline! {
        let numbers = range(n);
        let evens = numbers.filter(|x| x % 2 == 0);
        let odds = numbers.filter(|x| x % 2 == 1);
        evens.collect()
    }
}

fn main() {}
