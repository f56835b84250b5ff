use barks::prelude::*;

#[barks::job]
fn halve(n: i64, rounds: usize) -> Vec<i64> {
    // Plain `let`s before the pipeline are part of the job: they may use its
    // arguments, and closures may capture them.
    let divisor = 2;
    pipeline! {
        let numbers = range(n);
        for _ in 0..rounds {
            let halved = numbers.map(move |x| x / divisor);
            numbers = halved.distinct();
        }
        numbers.sort_by(|x| *x, true).collect()
    }
}

fn main() {
    assert_eq!(halve(8, 2).run_on("local[2]").unwrap(), vec![0, 1]);
}
