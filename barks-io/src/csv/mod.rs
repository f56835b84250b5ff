//! CSV files: typed rows in ([`csv_file`], [`csv_file_permissive`]) and out
//! ([`SaveAsCsv::save_as_csv`]), through the `csv` crate and serde.

mod options;
mod sink;
mod source;

pub use options::{CsvOptions, CsvWriteOptions};
pub use sink::SaveAsCsv;
pub use source::{csv_file, csv_file_permissive};
