//! barks-sql's integration tests, one binary (decision 0040): the TPC-H
//! harness checked on plain DataFusion, all 22 queries on barks, queries on
//! a local cluster, the DataFrame API, and bad input.

#[path = "../tpch/reference.rs"]
mod reference;
#[cfg(feature = "s3")]
#[path = "../../../barks-io/tests/s3_support/mod.rs"]
mod s3_support;

mod bad_input;
mod cluster;
mod dataframe;
mod datafusion_reference;
mod memory;
mod s3;
mod session;
mod sort;
mod stream;
mod subqueries;
mod tpch;

use barks_sql::datafusion::arrow::record_batch::RecordBatch;
use barks_sql::datafusion::parquet::arrow::ArrowWriter;

/// Writes `batch`'s rows as `files` Parquet files in `dir` (one file with
/// no rows if it has none): a table of several partitions.
pub fn parquet_files(dir: &std::path::Path, batch: &RecordBatch, files: usize) {
    let chunk = batch.num_rows().div_ceil(files.max(1)).max(1);
    let mut offset = 0;
    for i in 0.. {
        let len = chunk.min(batch.num_rows() - offset);
        if i > 0 && len == 0 {
            break;
        }
        let file = std::fs::File::create(dir.join(format!("part-{i}.parquet"))).unwrap();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        writer.write(&batch.slice(offset, len)).unwrap();
        writer.close().unwrap();
        offset += len;
    }
}
