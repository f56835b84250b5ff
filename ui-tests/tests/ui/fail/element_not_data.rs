use barks::prelude::*;

struct Point {
    x: i64,
}

#[barks::job]
fn points(n: i64) -> u64 {
    pipeline! {
        let numbers = range(n);
        let points = numbers.map(|x| Point { x });
        points.count()
    }
}

fn main() {}
