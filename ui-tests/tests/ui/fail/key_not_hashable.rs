use barks::prelude::*;

#[barks::job]
fn by_weight(items: Vec<(f64, String)>) -> Vec<(f64, Vec<String>)> {
    pipeline! {
        let items = parallelize(items);
        let groups = items.group_by_key();
        groups.collect()
    }
}

fn main() {}
