use barks::prelude::*;

#[derive(FromArrow)]
struct Event {
    id: u64,
    at: std::time::SystemTime,
}

fn main() {}
