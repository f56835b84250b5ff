use barks::prelude::*;

struct Point {
    x: i64,
}

#[barks::job]
fn points(n: i64) -> u64 {
    pipeline! {
        let numbers = range(n);
        let big = numbers.filter(|x| *x > 2).map(|x| Point { x }).filter(|p| p.x > 3);
        big.count()
    }
}

fn main() {}
