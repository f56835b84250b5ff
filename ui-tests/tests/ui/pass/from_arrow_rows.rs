//! The README's `FromArrow` example: a row read inside a pipeline, with
//! serde's attributes beside the derive's.
use barks::prelude::*;

#[derive(Clone, Serialize, Deserialize, FromArrow)]
struct Sale {
    region: String,
    #[serde(rename = "amount_cents")] // both derives read the column `amount_cents`
    cents: i64,
    refunded: Option<bool>,            // null, or no such column in the file: `None`
}

#[barks::job]
fn revenue(input: String) -> Vec<(String, i64)> {
    pipeline! {
        let sales = parquet_rows(input, ParquetOptions::new());
        sales.filter(|s: &Sale| s.refunded != Some(true))
             .map(|s| (s.region, s.cents))
             .reduce_by_key(|a, b| a + b)
             .collect()
    }
}

/// Other serde options do not change the columns; a raw identifier's
/// column has no `r#`.
#[derive(Clone, Serialize, Deserialize, FromArrow)]
#[serde(deny_unknown_fields)]
struct Trade {
    #[serde(default, rename = "sym")]
    symbol: String,
    r#type: u8,
}

fn main() {
    assert_eq!(<Sale as FromArrow>::COLUMNS, ["region", "amount_cents", "refunded"]);
    assert_eq!(<Trade as FromArrow>::COLUMNS, ["sym", "type"]);
}
