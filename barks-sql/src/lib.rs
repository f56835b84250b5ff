//! # barks-sql
//!
//! SQL and DataFrames for barks. [DataFusion](https://datafusion.apache.org)
//! parses, plans and optimizes; barks executes: the physical plan is cut at
//! its exchanges into barks stages, each partition of a stage is a barks
//! task (a thread in `local[N]`, a slot on a worker on a cluster), and the
//! exchanges are barks shuffles of Arrow batches, with barks' retries and
//! lost-worker recomputation.
//!
//! ```
//! use barks_sql::Session;
//!
//! let session = Session::new("local[2]").unwrap();
//! session
//!     .sql("CREATE VIEW sales AS SELECT * FROM (VALUES ('north', 120), ('south', 80), ('north', 30)) AS t(region, cents)")
//!     .unwrap();
//! let totals = session
//!     .sql("SELECT region, sum(cents) AS total FROM sales GROUP BY region ORDER BY region")
//!     .unwrap();
//! print!("{}", totals.show_string(20).unwrap());
//! assert_eq!(totals.count().unwrap(), 2);
//! ```

mod dataframe;
mod distributed;
mod errors;
mod functions;
pub mod pipeline;
mod read;
mod session;
mod show;
mod storage;
mod stream;
mod subqueries;
mod write;

pub use dataframe::{DataFrame, GroupedData, Join};
pub use functions::{AGGREGATE_UDFS, SCALAR_UDFS};
pub use read::DataFrameReader;
pub use session::{Session, SessionBuilder};
pub use show::show_string;
pub use stream::BatchIterator;
pub use write::DataFrameWriter;

/// DataFusion, whose expressions, functions and types the API uses.
pub use datafusion;

/// Column expressions for the DataFrame API (DataFusion's).
pub mod expr {
    pub use datafusion::functions_aggregate::expr_fn::{avg, count, max, min, sum};
    pub use datafusion::logical_expr::{Expr, SortExpr};
    pub use datafusion::prelude::{col, lit};
}

#[doc(hidden)]
pub use linkme as __linkme;
