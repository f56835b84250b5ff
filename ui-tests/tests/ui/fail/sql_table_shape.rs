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
            "SELECT s.region, sum(s.cents) AS total FROM sales s JOIN big b ON s.region = b.region GROUP BY s.region",
            sales,
            big = sales.filter(|s: &Sale| s.cents > 100),
        );
        totals.collect()
    }
}

fn main() {}
