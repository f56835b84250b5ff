use barks::prelude::*;

// A `join` followed by `map` fuses (the join's rows go straight into the
// map); the error still points at `join`.
#[barks::job]
fn joined(names: Vec<String>, ages: Vec<(String, u32)>) -> Vec<(String, u32)> {
    pipeline! {
        let people = parallelize(names);
        let ages = parallelize(ages);
        let joined = people.join(ages).map(|(k, (_, age))| (k, age));
        joined.collect()
    }
}

fn main() {}
