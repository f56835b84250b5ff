use barks::prelude::*;

#[derive(Clone, Serialize, Deserialize)]
struct Sale {
    region: String,
    cents: i64,
}

#[derive(Clone, Serialize, Deserialize)]
struct Total {
    region: String,
    total: i64,
}

#[barks::job]
fn totals(input: Vec<Sale>) -> Vec<Total> {
    pipeline! {
        let sales = parallelize(input);
        let view = sql::<Total>("CREATE VIEW v AS SELECT region, cents AS total FROM sales", sales = sales);
        let two = sql::<Total>("SELECT * FROM sales; SELECT * FROM sales", sales = sales);
        view.union(two).collect()
    }
}

fn main() {}
