use barks::prelude::*;

#[derive(FromArrow)]
enum Shape {
    Circle,
}

#[derive(FromArrow)]
struct Pair(u64, String);

#[derive(FromArrow)]
struct Tagged<T> {
    tag: T,
}

#[derive(FromArrow, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Camel {
    first_name: String,
}

fn main() {}
