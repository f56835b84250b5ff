use barks::prelude::*;

#[barks::job]
fn big(numbers: Vec<i64>) -> Vec<i64> {
    pipeline! {
        let numbers = parallelize(numbers);
        let big = numbers.filter(|x| *x > threshold);
        big.collect()
    }
}

fn main() {
    let threshold = 10;
    let _ = big(vec![1, threshold]);
}
