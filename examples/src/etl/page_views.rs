//! MongoDB → views per page → Parquet.

use super::mix;
use barks::prelude::*;

/// A document of the `page_views` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageView {
    #[serde(rename = "_id")]
    pub id: i64,
    pub user: String,
    pub page: String,
    pub duration_ms: i64,
    /// Absent (`None`) for direct visits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    pub bot: bool,
}

/// A row of the Parquet output: one page's views by people (not bots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTotals {
    pub page: String,
    pub views: i64,
    pub referred_views: i64,
    pub total_duration_ms: i64,
    /// The view time in whole seconds, rounded down.
    pub total_seconds: i64,
}

/// The pages of the demo data (non-ASCII on purpose).
pub const PAGES: [&str; 4] = ["/", "/pricing", "/docs/größe", "/blog/日本語"];
const REFERRERS: [&str; 2] = ["search", "newsletter"];

/// The demo view number `id`: the same on every run.
pub fn demo_view(id: i64) -> PageView {
    let r = mix(id);
    PageView {
        id,
        user: format!("user-{}", (r >> 4) % 97),
        page: PAGES[(r % 4) as usize].to_string(),
        duration_ms: ((r >> 20) % 600_000) as i64,
        referrer: match (r >> 40) % 3 {
            0 => None,
            n => Some(REFERRERS[(n - 1) as usize].to_string()),
        },
        bot: (r >> 50).is_multiple_of(8),
    }
}

/// Inserts `rows` demo views (`_id`s `0..rows`) into `write`'s collection;
/// existing `_id`s are skipped, so running it again changes nothing.
#[barks::job]
pub fn write_demo_views(write: MongoWrite, rows: i64, partitions: usize) -> () {
    pipeline! {
        let ids = range(0, rows, 1, partitions);
        ids.map(demo_view).save_to_mongodb(write)
    }
}

/// Reads the views, drops bots and writes the totals per page as Parquet
/// into `output`, with the derived `total_seconds`.
#[barks::job]
pub fn views_by_page(views: MongoRead, output: String) -> () {
    pipeline! {
        let docs = read_mongodb(views);
        let per_page = docs
            .filter(|v: &PageView| !v.bot)
            .map(|v: PageView| (v.page, (1i64, i64::from(v.referrer.is_some()), v.duration_ms)))
            .reduce_by_key(|a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        per_page
            .map(|(page, (views, referred_views, total_duration_ms))| PageTotals {
                page,
                views,
                referred_views,
                total_duration_ms,
                total_seconds: total_duration_ms / 1000,
            })
            .save_as_parquet(output, ParquetWriteOptions::new())
    }
}

/// Reads the Parquet output back: (pages, views).
#[barks::job]
pub fn page_totals_summary(output: String) -> (i64, i64) {
    pipeline! {
        let rows = parquet_file(output, ParquetOptions::new());
        rows.map(|t: PageTotals| (1i64, t.views)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}
