#[barks::job]
async fn evens(n: i64) -> Vec<i64> {
    barks::pipeline! {
        let numbers = range(n);
        numbers.filter(|x| x % 2 == 0).collect()
    }
}

fn main() {}
