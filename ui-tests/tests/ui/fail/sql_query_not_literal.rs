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
fn totals(sales: Vec<Sale>, query: String) -> Vec<Total> {
    pipeline! {
        let sales = parallelize(sales);
        let totals = sql::<Total>(query, sales = sales);
        let none = sql::<Total>();
        totals.union(none).collect()
    }
}

fn main() {}
