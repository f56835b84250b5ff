use barks::prelude::*;

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Region {
    name: String,
}

#[barks::job]
fn by_region(sales: Vec<(Region, u64)>) -> Vec<(Region, u64)> {
    pipeline! {
        let sales = parallelize(sales);
        let sorted = sales.reduce_by_key(|a, b| a + b).sort_by_key(true);
        sorted.collect()
    }
}

fn main() {}
