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
            returns = returns,
        );
        let typo = sql::<Total>(
            "SELECT region, cents AS total FROM sales",
            sale = sales,
        );
        totals.union(typo).collect()
    }
}

fn main() {}
