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
fn totals(input: Vec<Sale>, returns: Vec<Sale>) -> Vec<Total> {
    pipeline! {
        let sales = parallelize(input);
        let returns = parallelize(returns);
        let totals = sql::<Total>(
            "SELECT region, sum(cents) AS total FROM sales GROUP BY region",
            sales = sales,
            sales = returns,
        );
        totals.collect()
    }
}

fn main() {}
