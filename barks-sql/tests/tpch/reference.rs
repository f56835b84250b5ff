//! TPC-H reference harness shared by barks-sql's integration tests.
//!
//! Include it from a test file in `barks-sql/tests/` with
//!
//! ```ignore
//! #[path = "tpch/reference.rs"]
//! mod reference;
//! ```
//!
//! (Cargo does not build files in `tests/tpch/` as test targets of their own.)
//!
//! - [`data_dir`] runs `scripts/tpch/setup.sh --scale 0.1` once per process:
//!   it pip-installs `tpchgen-cli` and `duckdb` if needed, generates the 8
//!   tables as `<dir>/<table>.parquet` and DuckDB's answers to the 22 queries
//!   as `<dir>/answers/qN.json`; later runs reuse them (the script skips work
//!   that is done and serializes concurrent test processes with a `flock`).
//! - [`query`] is the text of `tests/tpch/queries/qN.sql`: one statement, the
//!   standard query with the TPC-H validation substitution parameters.
//! - [`table_paths`] lists the tables and their Parquet files.
//! - [`check_answer`] compares a result with DuckDB's answer.
//!
//! Comparison rules: same number of columns (names are not compared) and rows,
//! rows in order (every query has an ORDER BY); numbers of any Arrow type
//! (Int*, UInt*, Float*, Decimal*) compare as f64 within 1e-6 relative or
//! 1e-9 absolute, widened to one unit in the last place of a decimal result
//! (engines pick different result scales, e.g. for `avg` or decimal division);
//! dates compare as ISO-8601 strings, strings exactly, NULL only with NULL.
#![allow(dead_code)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value;

/// Number of TPC-H queries: they are numbered `1..=NUM_QUERIES`.
pub const NUM_QUERIES: usize = 22;

/// Scale factor of the data the tests use.
pub const SCALE: &str = "0.1";

/// The 8 TPC-H tables, as registered for the queries.
pub const TABLES: [&str; 8] = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

const REL_TOL: f64 = 1e-6;
const ABS_TOL: f64 = 1e-9;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo_root() -> PathBuf {
    crate_dir().join("..")
}

/// Directory holding the TPC-H SF 0.1 Parquet files and DuckDB's answers,
/// created on first use in this process by `scripts/tpch/setup.sh`.
///
/// Panics with the script's output if setup fails (e.g. no `python3`, or
/// PyPI unreachable on a cold machine).
pub fn data_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let script = root.join("scripts/tpch/setup.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["--scale", SCALE])
            .current_dir(&root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{} --scale {SCALE} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            script.display(),
            out.status
        );
        let dir = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or_else(
                || panic!("{} printed no directory:\n{stderr}", script.display()),
                |l| PathBuf::from(l.trim()),
            );
        assert!(
            dir.join("answers").is_dir(),
            "{} printed {}, which has no answers/",
            script.display(),
            dir.display()
        );
        dir
    })
    .clone()
}

/// Text of TPC-H query `n` (1..=22): a single SQL statement.
pub fn query(n: usize) -> String {
    assert!(
        (1..=NUM_QUERIES).contains(&n),
        "TPC-H queries are numbered 1..={NUM_QUERIES}, not {n}"
    );
    let path = crate_dir().join(format!("tests/tpch/queries/q{n}.sql"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The 8 tables and their Parquet files in `dir` (as returned by [`data_dir`]).
pub fn table_paths(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    TABLES
        .iter()
        .map(|&t| (t, dir.join(format!("{t}.parquet"))))
        .collect()
}

/// Registers the 8 tables of `dir` as views of `session`.
pub fn register_tables(session: &barks_sql::Session, dir: &Path) {
    for (table, path) in table_paths(dir) {
        let path = path.to_str().expect("a UTF-8 data path");
        session
            .read()
            .parquet(path)
            .and_then(|df| df.create_or_replace_temp_view(table))
            .unwrap_or_else(|e| panic!("registering {table} from {path}: {e}"));
    }
}

/// One value of a result, normalized for comparison.
enum Cell {
    Null,
    /// A number; `ulp` is one unit in the last place of a decimal, else 0.
    Num {
        v: f64,
        ulp: f64,
    },
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Num { v, .. } => write!(f, "{v}"),
            Cell::Text(s) => write!(f, "{s:?}"),
        }
    }
}

fn decimal_ulp(scale: i8) -> f64 {
    10f64.powi(-i32::from(scale))
}

/// Converts one Arrow column to cells.
fn column_cells(col: &ArrayRef) -> Result<Vec<Cell>, String> {
    let len = col.len();
    let numeric = |ulp: f64| -> Result<Vec<Cell>, String> {
        let f = cast(col, &DataType::Float64).map_err(|e| e.to_string())?;
        let f = f.as_primitive::<Float64Type>();
        Ok((0..len)
            .map(|i| {
                if f.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Num { v: f.value(i), ulp }
                }
            })
            .collect())
    };
    let formatted = |arr: &ArrayRef| -> Result<Vec<Cell>, String> {
        let options = FormatOptions::default();
        let fmt = ArrayFormatter::try_new(arr.as_ref(), &options).map_err(|e| e.to_string())?;
        Ok((0..len)
            .map(|i| {
                if arr.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Text(fmt.value(i).to_string())
                }
            })
            .collect())
    };
    match col.data_type() {
        DataType::Null => Ok((0..len).map(|_| Cell::Null).collect()),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64 => numeric(0.0),
        DataType::Decimal32(_, s)
        | DataType::Decimal64(_, s)
        | DataType::Decimal128(_, s)
        | DataType::Decimal256(_, s) => numeric(decimal_ulp(*s)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = cast(col, &DataType::Utf8).map_err(|e| e.to_string())?;
            let s = s.as_string::<i32>();
            Ok((0..len)
                .map(|i| {
                    if s.is_null(i) {
                        Cell::Null
                    } else {
                        Cell::Text(s.value(i).to_string())
                    }
                })
                .collect())
        }
        DataType::Dictionary(_, value) => {
            let plain = cast(col, value).map_err(|e| e.to_string())?;
            column_cells(&plain)
        }
        DataType::Date64 => {
            let d = cast(col, &DataType::Date32).map_err(|e| e.to_string())?;
            formatted(&d)
        }
        // Date32 formats as "1995-03-15", Boolean as "true"/"false".
        _ => formatted(col),
    }
}

/// Scale of a DuckDB type name such as "DECIMAL(38,4)".
fn duckdb_decimal_ulp(ty: &str) -> f64 {
    ty.strip_prefix("DECIMAL(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split(',').nth(1))
        .and_then(|s| s.trim().parse::<i8>().ok())
        .map_or(0.0, decimal_ulp)
}

fn show_expected(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Whether DuckDB's value `exp` (whose column has ulp `exp_ulp`) equals `got`.
fn cell_matches(exp: &Value, exp_ulp: f64, got: &Cell) -> bool {
    match (exp, got) {
        (Value::Null, Cell::Null) => true,
        (Value::Number(e), Cell::Num { v, ulp }) => {
            let Some(e) = e.as_f64() else { return false };
            let tol = (REL_TOL * e.abs().max(v.abs()))
                .max(ABS_TOL)
                .max(*ulp)
                .max(exp_ulp);
            (e - v).abs() <= tol
        }
        (Value::String(e), Cell::Text(g)) => e == g,
        (Value::Bool(e), Cell::Text(g)) => g == if *e { "true" } else { "false" },
        _ => false,
    }
}

/// Compares `batches`, the result of TPC-H query `n`, with DuckDB's answer in
/// `dir/answers/qN.json` (see the module documentation for the rules).
///
/// The error names the query, and the first differing row and column with
/// the expected and actual values.
pub fn check_answer(n: usize, batches: &[RecordBatch], dir: &Path) -> Result<(), String> {
    let path = dir.join(format!("answers/q{n}.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("q{n}: cannot read {}: {e}", path.display()))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| format!("q{n}: {} is not JSON: {e}", path.display()))?;
    let bad = |what: &str| format!("q{n}: {} has no {what}", path.display());
    let exp_columns: Vec<String> = doc["columns"]
        .as_array()
        .ok_or_else(|| bad("\"columns\" array"))?
        .iter()
        .map(|c| c.as_str().unwrap_or("?").to_string())
        .collect();
    let exp_rows = doc["rows"]
        .as_array()
        .ok_or_else(|| bad("\"rows\" array"))?;
    let exp_ulps: Vec<f64> = (0..exp_columns.len())
        .map(|c| doc["types"][c].as_str().map_or(0.0, duckdb_decimal_ulp))
        .collect();

    // The result, column by column.
    let got_columns: Vec<String> = match batches.first() {
        Some(b) => b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        None => Vec::new(),
    };
    if !batches.is_empty() && got_columns.len() != exp_columns.len() {
        return Err(format!(
            "q{n}: expected {} columns {exp_columns:?}, got {} columns {got_columns:?}",
            exp_columns.len(),
            got_columns.len()
        ));
    }
    let mut got: Vec<Vec<Cell>> = (0..exp_columns.len()).map(|_| Vec::new()).collect();
    for batch in batches {
        if batch.num_columns() != exp_columns.len() {
            return Err(format!(
                "q{n}: a result batch has {} columns, expected {}",
                batch.num_columns(),
                exp_columns.len()
            ));
        }
        for (c, col) in batch.columns().iter().enumerate() {
            let cells = column_cells(col).map_err(|e| {
                format!(
                    "q{n}: cannot convert column {c} ({}) of type {}: {e}",
                    got_columns.get(c).map_or("?", String::as_str),
                    col.data_type()
                )
            })?;
            got[c].extend(cells);
        }
    }
    let got_rows = got.first().map_or(0, Vec::len);

    // First mismatch over the rows both sides have.
    let mut first_mismatch = None;
    let mut mismatches = 0usize;
    for (r, exp_row) in exp_rows.iter().enumerate().take(got_rows) {
        let exp_row = exp_row
            .as_array()
            .ok_or_else(|| format!("q{n}: row {r} of {} is not an array", path.display()))?;
        if exp_row.len() != exp_columns.len() {
            return Err(format!(
                "q{n}: row {r} of {} has {} values for {} columns",
                path.display(),
                exp_row.len(),
                exp_columns.len()
            ));
        }
        for (c, exp) in exp_row.iter().enumerate() {
            let cell = &got[c][r];
            if !cell_matches(exp, exp_ulps[c], cell) {
                mismatches += 1;
                if first_mismatch.is_none() {
                    first_mismatch = Some(format!(
                        "row {r}, column {c} ({}): expected {}, got {cell}",
                        exp_columns[c],
                        show_expected(exp)
                    ));
                }
            }
        }
    }

    if got_rows != exp_rows.len() {
        let detail = first_mismatch
            .map(|m| format!("; first difference: {m}"))
            .unwrap_or_default();
        return Err(format!(
            "q{n}: expected {} rows, got {got_rows}{detail}",
            exp_rows.len()
        ));
    }
    match first_mismatch {
        None => Ok(()),
        Some(m) => Err(format!(
            "q{n}: {m} ({mismatches} differing value(s) in {got_rows} rows)"
        )),
    }
}
