use barks::prelude::*;

#[barks::job]
fn joined(ages: Vec<(String, u32)>, names: Vec<String>) -> u64 {
    pipeline! {
        let ages = parallelize(ages);
        let names = parallelize(names);
        let joined = ages.join(names);
        joined.count()
    }
}

fn main() {}
