use barks::prelude::*;

#[barks::job]
fn halve(n: i64, rounds: usize) -> Vec<i64> {
    pipeline! {
        let numbers = range(n);
        for _ in 0..rounds {
            let numbers = numbers.map(|x| x / 2).distinct();
        }
        numbers.collect()
    }
}

fn main() {}
