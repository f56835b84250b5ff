//! SQL and DataFrames on `s3://` against a real server (Ceph RADOS Gateway;
//! start it with `eval "$(scripts/services/s3-rgw.sh)"`): DataFusion's
//! sources read through barks-io's S3 client (decision 0049), on the
//! driver, in local tasks and in cluster workers. Writes go through barks'
//! committer. Every test works in its own bucket; `curl` writes the CSV and
//! JSON files the reads check (see `s3_support`).
#![cfg(feature = "s3")]

use crate::s3_support::s3;
use barks_sql::Session;
use barks_sql::datafusion::arrow::util::pretty::pretty_format_batches;
use barks_sql::datafusion::execution::object_store::ObjectStoreUrl;
use barks_sql::datafusion::object_store::path::Path;
use barks_sql::datafusion::object_store::{
    self, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
};
use barks_sql::datafusion::prelude::CsvReadOptions;
use futures::TryStreamExt;
use serde::Deserialize;
use std::collections::BTreeSet;

fn session(master: &str) -> Session {
    Session::builder(master)
        .shuffle_partitions(3)
        .build()
        .unwrap()
}

fn error_of<T>(result: barks_runtime::Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct Totals {
    rows: i64,
    ids: i64,
}

/// `SELECT count(*), sum(id)` over `table`.
fn totals(session: &Session, table: &str) -> Totals {
    let rows: Vec<Totals> = session
        .sql(&format!(
            "SELECT count(*) AS rows, sum(id) AS ids FROM {table}"
        ))
        .unwrap()
        .collect_serde()
        .unwrap();
    assert_eq!(rows.len(), 1);
    rows.into_iter().next().unwrap()
}

/// The 1..=n rows every Parquet test writes: `id`, `k = id % 7`, `region`.
fn write_numbers(session: &Session, dir: &str, n: i64) {
    session
        .sql(&format!(
            "SELECT value AS id, value % 7 AS k, 'r' || CAST(value % 3 AS VARCHAR) AS region \
             FROM generate_series(1, {n}) AS t(value)"
        ))
        .unwrap()
        .write()
        .parquet(dir)
        .unwrap();
}

fn expected(n: i64) -> Totals {
    Totals {
        rows: n,
        ids: n * (n + 1) / 2,
    }
}

#[test]
fn parquet_written_to_s3_reads_back_by_directory_glob_and_external_table() {
    let s3 = s3();
    let bucket = s3.bucket("sql-parquet");
    let dir = format!("s3://{bucket}/numbers/");
    let session = session("local[2]");
    write_numbers(&session, &dir, 1000);
    let keys = s3.keys(&bucket, "numbers/");
    assert!(keys.contains(&"numbers/_SUCCESS".to_string()), "{keys:?}");
    let parts: Vec<_> = keys.iter().filter(|k| k.ends_with(".parquet")).collect();
    assert!(!parts.is_empty(), "{keys:?}");

    // The directory, with and without its trailing `/`.
    for path in [dir.clone(), dir.trim_end_matches('/').to_string()] {
        let df = session.read().parquet(&path).unwrap();
        df.create_or_replace_temp_view("by_dir").unwrap();
        assert_eq!(totals(&session, "by_dir"), expected(1000), "{path}");
    }
    // A glob, expanded by barks-io's listing.
    let df = session
        .read()
        .parquet(&format!("s3://{bucket}/numbers/part-*"))
        .unwrap();
    df.create_or_replace_temp_view("by_glob").unwrap();
    assert_eq!(totals(&session, "by_glob"), expected(1000));
    // One part file by its URL.
    let one = format!("s3://{bucket}/{}", parts[0]);
    assert!(session.read().parquet(&one).unwrap().count().unwrap() > 0);
    // A table over the directory.
    session
        .sql(&format!(
            "CREATE EXTERNAL TABLE numbers STORED AS PARQUET LOCATION '{dir}'"
        ))
        .unwrap();
    assert_eq!(totals(&session, "numbers"), expected(1000));
    let columns = session.table("numbers").unwrap().columns();
    assert_eq!(columns, ["id", "k", "region"]);

    // Overwritten, the directory reads back as it is now, in the same
    // session: its new files, with their new sizes.
    session
        .sql("SELECT value AS id FROM generate_series(1, 10) AS t(value)")
        .unwrap()
        .write()
        .mode("overwrite")
        .parquet(&dir)
        .unwrap();
    let df = session.read().parquet(&dir).unwrap();
    df.create_or_replace_temp_view("again").unwrap();
    assert_eq!(totals(&session, "again"), expected(10));
    assert_eq!(totals(&session, "numbers"), expected(10));
}

#[test]
fn group_by_on_s3_runs_on_local_threads_and_on_cluster_workers() {
    let s3 = s3();
    let bucket = s3.bucket("sql-group-by");
    let dir = format!("s3://{bucket}/numbers/");
    write_numbers(&session("local[2]"), &dir, 20000);

    #[derive(Debug, Deserialize, PartialEq)]
    struct Group {
        k: i64,
        total: i64,
    }
    let expected: Vec<Group> = (0..7)
        .map(|k| Group {
            k,
            total: (1..=20000i64).filter(|n| n % 7 == k).sum(),
        })
        .collect();
    for master in ["local[2]", "local-cluster[2]"] {
        let session = session(master);
        session
            .sql(&format!(
                "CREATE EXTERNAL TABLE numbers STORED AS PARQUET LOCATION '{dir}'"
            ))
            .unwrap();
        let groups: Vec<Group> = session
            .sql("SELECT k, sum(id) AS total FROM numbers GROUP BY k ORDER BY k")
            .unwrap()
            .collect_serde()
            .unwrap();
        assert_eq!(groups, expected, "{master}");
    }

    // On a cluster the workers read S3 themselves: the scan's tasks run
    // there, never on the driver (`barks_pid()` is cluster.rs's UDF).
    let session = session("local-cluster[2]");
    let workers: BTreeSet<u32> = session.context().local_worker_pids().into_iter().collect();
    session
        .read()
        .parquet(&dir)
        .unwrap()
        .create_or_replace_temp_view("numbers")
        .unwrap();
    #[derive(Deserialize)]
    struct Pid {
        pid: u32,
    }
    let pids: BTreeSet<u32> = session
        .sql("SELECT DISTINCT barks_pid() AS pid FROM numbers WHERE id > 0")
        .unwrap()
        .collect_serde::<Pid>()
        .unwrap()
        .into_iter()
        .map(|p| p.pid)
        .collect();
    assert!(!pids.is_empty());
    assert!(
        !pids.contains(&std::process::id()),
        "a scan ran on the driver"
    );
    assert!(pids.is_subset(&workers), "{pids:?} not in {workers:?}");
}

#[test]
fn csv_and_json_files_on_s3_read_whole_split_and_by_glob() {
    let s3 = s3();
    let bucket = s3.bucket("sql-text");
    // Two small CSV files, a hidden one and a large one (over the 8 MiB a
    // single GET reads: it streams, and splits into byte ranges).
    s3.put(&bucket, "csv/a.csv", b"id,name\n1,ann\n2,bob\n");
    s3.put(&bucket, "csv/b.csv", b"id,name\n3,cy\n");
    s3.put(&bucket, "csv/_hidden.csv", b"id,name\n100,nobody\n");
    let rows = 300_000i64;
    let mut big = String::from("id,name\n");
    for id in 1..=rows {
        big.push_str(&format!("{id},name-{id:0>24}\n"));
    }
    assert!(big.len() > 9 << 20);
    s3.put(&bucket, "big/big.csv", big.as_bytes());
    s3.put(
        &bucket,
        "json/rows.json",
        b"{\"id\": 1, \"name\": \"ann\"}\n{\"id\": 2, \"name\": \"bob\"}\n{\"id\": 4, \"name\": null}\n",
    );

    let session = session("local[2]");
    let csv = session
        .read()
        .csv(&format!("s3://{bucket}/csv/"), CsvReadOptions::new())
        .unwrap();
    csv.create_or_replace_temp_view("csv").unwrap();
    assert_eq!(totals(&session, "csv"), Totals { rows: 3, ids: 6 });
    let glob = session
        .read()
        .csv(&format!("s3://{bucket}/csv/a*"), CsvReadOptions::new())
        .unwrap();
    glob.create_or_replace_temp_view("glob").unwrap();
    assert_eq!(totals(&session, "glob"), Totals { rows: 2, ids: 3 });

    let json = session
        .read()
        .json(&format!("s3://{bucket}/json/rows.json"))
        .unwrap();
    json.create_or_replace_temp_view("json").unwrap();
    assert_eq!(totals(&session, "json"), Totals { rows: 3, ids: 7 });

    // Hive-style partition directories: the listing goes down the levels.
    s3.put(&bucket, "hive/year=2020/a.csv", b"id,name\n1,ann\n");
    s3.put(&bucket, "hive/year=2021/b.csv", b"id,name\n2,bob\n3,cy\n");
    session
        .sql(&format!(
            "CREATE EXTERNAL TABLE hive (id BIGINT, name VARCHAR, year VARCHAR) STORED AS CSV \
             PARTITIONED BY (year) LOCATION 's3://{bucket}/hive/' \
             OPTIONS ('format.has_header' 'true')"
        ))
        .unwrap();
    assert_eq!(totals(&session, "hive"), Totals { rows: 3, ids: 6 });
    session
        .sql("CREATE VIEW hive_2021 AS SELECT * FROM hive WHERE year = '2021'")
        .unwrap();
    assert_eq!(totals(&session, "hive_2021"), Totals { rows: 2, ids: 5 });

    // The large file, whole (one task) and in byte ranges (three tasks).
    for partitions in [1, 3] {
        let session = Session::builder("local[3]")
            .shuffle_partitions(partitions)
            .build()
            .unwrap();
        session
            .read()
            .csv(&format!("s3://{bucket}/big/big.csv"), CsvReadOptions::new())
            .unwrap()
            .create_or_replace_temp_view("big")
            .unwrap();
        assert_eq!(totals(&session, "big"), expected(rows), "{partitions}");
    }
}

#[test]
fn projection_and_predicate_are_pushed_into_the_s3_scan() {
    let s3 = s3();
    let bucket = s3.bucket("sql-pushdown");
    let dir = format!("s3://{bucket}/numbers/");
    let session = session("local[2]");
    write_numbers(&session, &dir, 5000);
    session
        .sql(&format!(
            "CREATE EXTERNAL TABLE numbers STORED AS PARQUET LOCATION '{dir}'"
        ))
        .unwrap();
    let query = "SELECT id FROM numbers WHERE id > 4990";
    let df = session.sql(query).unwrap();
    let plan = df.explain().unwrap();
    let scan = plan
        .lines()
        .find(|line| line.contains("DataSourceExec"))
        .unwrap_or_else(|| panic!("no DataSourceExec in\n{plan}"));
    assert!(scan.contains("numbers/part-"), "{scan}");
    assert!(scan.contains("projection=[id]"), "{scan}");
    assert!(scan.contains("predicate=id@0 > 4990"), "{scan}");
    assert_eq!(df.count().unwrap(), 10);
    // SQL's EXPLAIN shows the same scan.
    let explained = session
        .sql(&format!("EXPLAIN {query}"))
        .unwrap()
        .collect()
        .unwrap();
    let explained = pretty_format_batches(&explained).unwrap().to_string();
    assert!(explained.contains("predicate=id@0 > 4990"), "{explained}");
}

#[test]
fn a_missing_s3_path_is_an_error_naming_it() {
    let s3 = s3();
    let bucket = s3.bucket("sql-missing");
    s3.put(&bucket, "data/a.csv", b"id\n1\n");
    let session = session("local[1]");
    for path in [
        format!("s3://{bucket}/nothing/"),
        format!("s3://{bucket}/nothing"),
        format!("s3://{bucket}/data/*.parquet"),
    ] {
        let err = error_of(session.read().parquet(&path));
        assert!(err.contains(&path), "{err}");
    }
    let path = format!("s3://{bucket}/data/b.csv");
    let err = error_of(session.read().csv(&path, CsvReadOptions::new()));
    assert!(err.contains(&path), "{err}");
    let path = format!("s3://{bucket}/nothing/");
    let err = error_of(session.sql(&format!(
        "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '{path}'"
    )));
    assert!(err.contains(&path), "{err}");
    let path = "s3://barks-no-such-bucket-anywhere/data/";
    let err = error_of(session.read().parquet(path));
    assert!(err.contains("barks-no-such-bucket-anywhere"), "{err}");
}

#[test]
fn datafusion_does_not_write_to_s3() {
    let s3 = s3();
    let bucket = s3.bucket("sql-copy");
    let session = session("local[1]");
    let path = format!("s3://{bucket}/out/x.parquet");
    let err = error_of(
        session
            .sql(&format!(
                "COPY (SELECT 1 AS one) TO '{path}' STORED AS PARQUET"
            ))
            .and_then(|df| df.collect()),
    );
    assert!(err.contains("df.write()"), "{err}");
    assert!(s3.keys(&bucket, "").is_empty());
}

/// The `object_store` DataFusion reads `s3://` through, called directly:
/// off any tokio runtime (barks-io is called on the caller's thread) and on
/// a current-thread one (on tokio's blocking pool), as tasks do.
#[test]
fn the_s3_object_store_reads_ranges_lists_and_refuses_writes() {
    let s3 = s3();
    let bucket = s3.bucket("sql-store");
    let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    s3.put(&bucket, "dir/a.bin", &data);
    s3.put(&bucket, "dir/sub/b.bin", b"bee");
    s3.put(&bucket, "dir/_hidden", b"h");
    s3.put(&bucket, "other.bin", b"o");
    let session = session("local[1]");
    let url = ObjectStoreUrl::parse(format!("s3://{bucket}")).unwrap();
    let store = session
        .datafusion()
        .runtime_env()
        .object_store(url)
        .unwrap();

    let check = async || {
        let a = Path::from("dir/a.bin");
        assert_eq!(store.head(&a).await.unwrap().size, 100_000);
        let whole = store.get(&a).await.unwrap();
        assert_eq!(whole.range, 0..100_000);
        assert_eq!(whole.bytes().await.unwrap(), data);
        assert_eq!(store.get_range(&a, 10..20).await.unwrap(), data[10..20]);
        for (range, expected) in [
            (GetRange::Suffix(5), 99_995..100_000),
            (GetRange::Offset(99_990), 99_990..100_000),
            (GetRange::Bounded(99_000..200_000), 99_000..100_000),
        ] {
            let options = GetOptions::new().with_range(Some(range));
            let got = store.get_opts(&a, options).await.unwrap();
            assert_eq!(got.range, expected);
            let bytes = got.bytes().await.unwrap();
            assert_eq!(bytes, data[expected.start as usize..expected.end as usize]);
        }
        let ranges = store.get_ranges(&a, &[0..3, 50_000..50_010]).await.unwrap();
        assert_eq!(ranges[0], data[0..3]);
        assert_eq!(ranges[1], data[50_000..50_010]);

        // A prefix or a missing key is no object.
        for missing in ["dir", "dir/nope.bin"] {
            let err = store.head(&Path::from(missing)).await.unwrap_err();
            assert!(matches!(err, object_store::Error::NotFound { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains(&format!("s3://{bucket}/{missing}")),
                "{err}"
            );
        }

        // Listings are recursive; hidden names are skipped, as barks does.
        let listed = |prefix: Option<&'static str>| {
            let store = store.clone();
            async move {
                let prefix = prefix.map(Path::from);
                let mut keys: Vec<(String, u64)> = store
                    .list(prefix.as_ref())
                    .map_ok(|meta| (meta.location.to_string(), meta.size))
                    .try_collect()
                    .await
                    .unwrap();
                keys.sort();
                keys
            }
        };
        let dir = vec![
            ("dir/a.bin".to_string(), 100_000),
            ("dir/sub/b.bin".to_string(), 3),
        ];
        assert_eq!(listed(Some("dir")).await, dir);
        let mut all = dir.clone();
        all.push(("other.bin".to_string(), 1));
        assert_eq!(listed(None).await, all);
        assert_eq!(listed(Some("nothing")).await, vec![]);
        let level = store
            .list_with_delimiter(Some(&Path::from("dir")))
            .await
            .unwrap();
        let objects: Vec<_> = level
            .objects
            .iter()
            .map(|m| m.location.to_string())
            .collect();
        assert_eq!(objects, ["dir/a.bin"]);
        assert_eq!(level.common_prefixes, [Path::from("dir/sub")]);

        // Writes go through barks' committer, not DataFusion.
        let err = store
            .put(&Path::from("dir/new.bin"), PutPayload::from_static(b"x"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, object_store::Error::NotSupported { .. }),
            "{err}"
        );
        assert!(store.delete(&a).await.is_err());
        assert!(store.copy(&a, &Path::from("dir/copy.bin")).await.is_err());
    };
    futures::executor::block_on(check());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(check());
    assert_eq!(s3.get(&bucket, "dir/a.bin"), data);
    assert!(
        !s3.keys(&bucket, "")
            .iter()
            .any(|k| k.contains("new") || k.contains("copy"))
    );
}
