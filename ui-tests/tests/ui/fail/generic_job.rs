#[barks::job]
fn everything<T: Clone + Send + Sync + 'static>(items: Vec<T>) -> Vec<T> {
    barks::pipeline! {
        let items = parallelize(items);
        items.collect()
    }
}

fn main() {
    // The job is still declared, so calling it adds no error.
    let _ = everything(vec![1, 2]);
}
