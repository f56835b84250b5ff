use barks::prelude::*;

fn main() {
    let threshold = 10;

    #[barks::job]
    fn big(numbers: Vec<i64>) -> Vec<i64> {
        pipeline! {
            let numbers = parallelize(numbers);
            let big = numbers.filter(|x| *x > threshold);
            big.collect()
        }
    }

    let _ = big(vec![1, 20]);
}
