use barks::prelude::*;

#[barks::job]
fn joined(names: Vec<String>, ages: Vec<(String, u32)>) -> Vec<(String, (u32, u32))> {
    pipeline! {
        let people = parallelize(names);
        let ages = parallelize(ages);
        let joined = people.join(ages);
        joined.collect()
    }
}

fn main() {}
