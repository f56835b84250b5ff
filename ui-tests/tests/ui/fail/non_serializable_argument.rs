use barks::prelude::*;

struct Config {
    min: i64,
}

#[barks::job]
fn above(n: i64, config: Config) -> u64 {
    pipeline! {
        let numbers = range(n);
        let kept = numbers.filter(move |x| *x >= config.min);
        kept.count()
    }
}

fn main() {}
