//! PostgreSQL → revenue per region → Parquet.

use super::mix;
use barks::io::postgres::execute_batch;
use barks::prelude::*;

/// A row of the `sales` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sale {
    pub id: i64,
    pub region: String,
    pub product: String,
    pub quantity: i32,
    pub unit_price_cents: i64,
    /// NULL when the sale had no discount.
    pub discount_pct: Option<i32>,
    pub refunded: bool,
}

/// A row of the Parquet output: one region's sales that were not refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionTotals {
    pub region: String,
    pub orders: i64,
    pub units: i64,
    pub revenue_cents: i64,
}

/// The regions of the demo data (non-ASCII on purpose).
pub const REGIONS: [&str; 5] = ["north", "south", "Zürich", "São Paulo", "東京"];
const PRODUCTS: [&str; 4] = ["widget", "gadget", "gizmo", "doohickey"];

/// The `CREATE TABLE` of the demo table `table` (dropped first if present).
pub fn create_table_sql(table: &str) -> String {
    format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (
             id bigint PRIMARY KEY,
             region text NOT NULL,
             product text NOT NULL,
             quantity integer NOT NULL,
             unit_price_cents bigint NOT NULL,
             discount_pct integer,
             refunded boolean NOT NULL
         );"
    )
}

/// The demo sale number `id`: the same on every run.
pub fn demo_sale(id: i64) -> Sale {
    let r = mix(id);
    Sale {
        id,
        region: REGIONS[(r % 5) as usize].to_string(),
        product: PRODUCTS[((r >> 8) % 4) as usize].to_string(),
        quantity: 1 + ((r >> 16) % 20) as i32,
        unit_price_cents: 99 + ((r >> 24) % 100_000) as i64,
        discount_pct: match (r >> 44) % 4 {
            0 => None,
            n => Some(5 * n as i32),
        },
        refunded: (r >> 48).is_multiple_of(10),
    }
}

/// What the sale earned: quantity × unit price, less the discount
/// (rounded toward zero, as SQL's integer division).
pub fn revenue_cents(sale: &Sale) -> i64 {
    let discount = i64::from(sale.discount_pct.unwrap_or(0));
    i64::from(sale.quantity) * sale.unit_price_cents * (100 - discount) / 100
}

/// Fills `table` with `rows` demo sales (ids `0..rows`) in `partitions`
/// parallel `COPY`s.
#[barks::job]
pub fn write_demo_sales(url: String, table: String, rows: i64, partitions: usize) -> () {
    pipeline! {
        let ids = range(0, rows, 1, partitions);
        ids.map(demo_sale).save_to_postgres(SqlWrite::table(url, table))
    }
}

/// (Re)creates `table` and fills it with `rows` demo sales.
pub fn setup_sales_table(ctx: &Context, url: &str, table: &str, rows: i64) -> barks::Result<()> {
    execute_batch(url, &create_table_sql(table))?;
    ctx.run_job(write_demo_sales(
        url.to_string(),
        table.to_string(),
        rows,
        4,
    ))
}

/// Reads `sales`, drops refunded sales, computes each sale's revenue and
/// writes the totals per region as Parquet into `output`.
#[barks::job]
pub fn sales_by_region(sales: SqlRead, output: String) -> () {
    pipeline! {
        let rows = read_postgres(sales);
        let per_region = rows
            .filter(|s: &Sale| !s.refunded)
            .map(|s: Sale| (s.region.clone(), (1i64, i64::from(s.quantity), revenue_cents(&s))))
            .reduce_by_key(|a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        per_region
            .map(|(region, (orders, units, revenue_cents))| RegionTotals { region, orders, units, revenue_cents })
            .save_as_parquet(output, ParquetWriteOptions::new())
    }
}

/// Reads the Parquet output back: (regions, orders).
#[barks::job]
pub fn region_totals_summary(output: String) -> (i64, i64) {
    pipeline! {
        let rows = parquet_file(output, ParquetOptions::new());
        rows.map(|t: RegionTotals| (1i64, t.orders)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}
