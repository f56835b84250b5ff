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
fn totals(sales: Vec<Sale>) -> Vec<Total> {
    pipeline! {
        let sales = parallelize(sales);
        let totals = sql::<Total>(
            "SELECT region, sum(cents) AS total
             FROM sales
             GROUP region",
            sales = sales,
        );
        totals.collect()
    }
}

fn main() {}
