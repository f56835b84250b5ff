//! `DropMalformed` counts (task counters merged on the driver) in cluster
//! mode, with real worker processes on loopback, and in local mode: the
//! count `dropped_records` reports equals the number of malformed lines the
//! test wrote, for CSV and JSON lines, across partition counts, when a task
//! fails after reading and is retried, and when a worker is killed so that
//! the reading stage is recomputed.

use barks::BoxIter;
use barks::io::dropped_records;
use barks::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
#[path = "common/bounded.rs"]
mod bounded;
use bounded::bounded;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Trade {
    symbol: String,
    price: f64,
    qty: u32,
}

/// What a job does besides reading: fail the first attempt of every reading
/// task, or log each read and make the reduce stage slow.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Trouble {
    /// Marker directory: the first attempt of each reading task fails after
    /// it read its whole partition.
    fail_once: Option<PathBuf>,
    /// Every read of a partition leaves a file here, and every reduce task
    /// leaves one named after its worker process and then naps.
    log: Option<PathBuf>,
    nap_ms: u64,
}

impl Trouble {
    /// The reading stage's step: reads the whole partition (so its drop
    /// count is recorded), then fails or logs as asked.
    fn after_read(&self, partition: usize, rows: BoxIter<Trade>) -> Vec<Trade> {
        let rows: Vec<Trade> = rows.collect();
        if let Some(dir) = &self.fail_once
            && std::fs::create_dir(dir.join(format!("p{partition}"))).is_ok()
        {
            panic!("the first attempt of partition {partition} fails after reading it");
        }
        if let Some(dir) = &self.log {
            static READS: AtomicU64 = AtomicU64::new(0);
            let n = READS.fetch_add(1, Ordering::Relaxed);
            let name = format!("read-p{partition}-{}-{n}", std::process::id());
            std::fs::write(dir.join(name), "").unwrap();
        }
        rows
    }

    /// The reduce stage's step.
    fn before_reduce<T>(&self, rows: BoxIter<T>) -> BoxIter<T> {
        if let Some(dir) = &self.log {
            std::fs::write(dir.join(format!("reducer-{}", std::process::id())), "").unwrap();
            std::thread::sleep(Duration::from_millis(self.nap_ms));
        }
        rows
    }
}

#[barks::job]
fn csv_totals(path: String, partitions: usize, trouble: Trouble) -> Vec<(String, u64)> {
    let reducing = trouble.clone();
    pipeline! {
        let trades = csv_file(path, CsvOptions::new().mode(BadRecordMode::DropMalformed).min_partitions(partitions));
        let read = trades.map_partitions_with_index(move |p, rows| trouble.after_read(p, rows));
        let qty = read.map(|t: Trade| (t.symbol, u64::from(t.qty))).reduce_by_key(|a, b| a + b);
        let slow = qty.map_partitions(move |rows| reducing.before_reduce(rows));
        slow.sort_by_key(true).collect()
    }
}

#[barks::job]
fn json_totals(path: String, partitions: usize, trouble: Trouble) -> Vec<(String, u64)> {
    let reducing = trouble.clone();
    pipeline! {
        let trades = json_file(path, JsonOptions::new().mode(BadRecordMode::DropMalformed).min_partitions(partitions));
        let read = trades.map_partitions_with_index(move |p, rows| trouble.after_read(p, rows));
        let qty = read.map(|t: Trade| (t.symbol, u64::from(t.qty))).reduce_by_key(|a, b| a + b);
        let slow = qty.map_partitions(move |rows| reducing.before_reduce(rows));
        slow.sort_by_key(true).collect()
    }
}

const SYMBOLS: [&str; 4] = ["ACME", "ÜBER", "日本", "🦀"];

/// An input file in one format: its text is generated with a known set of
/// malformed lines.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Json,
}

/// The expected outcome of reading a generated input.
struct Expected {
    totals: Vec<(String, u64)>,
    malformed: u64,
}

/// Writes `lines` records to `path`, every 11th (and the last) malformed in
/// one of several ways; returns what reading it must give.
fn write_input(path: &Path, format: Format, lines: u64) -> Expected {
    let mut text = String::new();
    if format == Format::Csv {
        text.push_str("symbol,price,qty\n");
    }
    let mut totals = BTreeMap::<String, u64>::new();
    let mut malformed = 0;
    for i in 0..lines {
        let symbol = SYMBOLS[(i % 4) as usize];
        let qty = i % 17;
        let bad = i % 11 == 3 || i + 1 == lines;
        let line = match (format, bad, i % 3) {
            (Format::Csv, false, _) => format!("\"{symbol}, Inc.\",{}.5,{qty}", i % 100),
            (Format::Csv, true, 0) => format!("{symbol},not-a-price,{qty}"),
            (Format::Csv, true, 1) => format!("{symbol},1.5"),
            (Format::Csv, true, _) => format!("{symbol},1.5,-{qty}"),
            (Format::Json, false, _) => format!(
                "{{\"symbol\":\"{symbol}, Inc.\",\"price\":{}.5,\"qty\":{qty}}}",
                i % 100
            ),
            (Format::Json, true, 0) => format!("{{\"symbol\":\"{symbol}\",\"price\":1.5"),
            (Format::Json, true, 1) => {
                format!("{{\"symbol\":\"{symbol}\",\"price\":\"x\",\"qty\":1}}")
            }
            (Format::Json, true, _) => format!("{{\"symbol\":\"{symbol}\",\"price\":1.5}}"),
        };
        text.push_str(&line);
        text.push('\n');
        if bad {
            malformed += 1;
        } else {
            *totals.entry(format!("{symbol}, Inc.")).or_default() += qty;
        }
    }
    std::fs::write(path, text).unwrap();
    Expected {
        totals: totals.into_iter().collect(),
        malformed,
    }
}

/// The job reading `path` in `format`.
fn totals_job(
    format: Format,
    path: &str,
    partitions: usize,
    trouble: Trouble,
) -> Job<Vec<(String, u64)>> {
    match format {
        Format::Csv => csv_totals(path.to_string(), partitions, trouble),
        Format::Json => json_totals(path.to_string(), partitions, trouble),
    }
}

/// Reads a CSV and a JSON lines input in several partition counts on `ctx`,
/// plain and with every reading task failing once: the drop count is exact
/// each time.
fn counts_are_exact_on(ctx: Context) {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Csv, Format::Json] {
        let file = dir.path().join(if format == Format::Csv {
            "in.csv"
        } else {
            "in.json"
        });
        let expected = write_input(&file, format, 3000);
        assert!(expected.malformed > 270);
        let path = file.display().to_string();
        for partitions in [1, 3, 8] {
            let markers = tempfile::tempdir().unwrap();
            for trouble in [
                Trouble::default(),
                Trouble {
                    fail_once: Some(markers.path().to_path_buf()),
                    ..Trouble::default()
                },
            ] {
                let (ctx, job) = (ctx.clone(), totals_job(format, &path, partitions, trouble));
                let got = bounded(move || ctx.run_job(job)).unwrap();
                assert_eq!(got, expected.totals, "{path} in {partitions} partitions");
                assert_eq!(
                    dropped_records(&path),
                    expected.malformed,
                    "{path} in {partitions} partitions"
                );
            }
            let failed = std::fs::read_dir(markers.path()).unwrap().count();
            assert!(
                failed >= partitions,
                "every reading task failed once: {failed}"
            );
        }
    }
}

#[test]
fn drop_counts_are_exact_in_a_local_cluster() {
    counts_are_exact_on(Context::new("local-cluster[2,1]").unwrap());
}

#[test]
fn drop_counts_are_exact_in_local_mode() {
    counts_are_exact_on(Context::new("local[3]").unwrap().with_max_task_attempts(2));
}

#[test]
fn an_empty_input_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.csv");
    std::fs::write(&file, "").unwrap();
    let path = file.display().to_string();
    let ctx = Context::new("local-cluster[2,1]").unwrap();
    let got = bounded(move || ctx.run_job(csv_totals(path, 3, Trouble::default()))).unwrap();
    assert!(got.is_empty());
    assert_eq!(dropped_records(&file.display().to_string()), 0);
}

#[test]
fn a_recomputed_reading_stage_does_not_count_twice() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.csv");
    let expected = write_input(&file, Format::Csv, 4000);
    let path = file.display().to_string();
    let log = dir.path().join("log");
    std::fs::create_dir(&log).unwrap();
    let ctx = Context::builder("local-cluster[2,1]")
        .worker_timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let pids = ctx.local_worker_pids();
    let trouble = Trouble {
        log: Some(log.clone()),
        nap_ms: 1500,
        ..Trouble::default()
    };
    let job = csv_totals(path.clone(), 6, trouble);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(ctx.run_job(job));
    });
    // Once a reduce task runs (every map output is written), kill the
    // worker running it: its map outputs are lost and must be recomputed.
    let start = Instant::now();
    let victim = loop {
        let reducer = std::fs::read_dir(&log).unwrap().flatten().find_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("reducer-")?.parse::<u32>().ok()
        });
        if let Some(pid) = reducer {
            break pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no reduce task started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(pids.contains(&victim), "{victim} is not one of {pids:?}");
    // SAFETY: plain syscall on a child process id the context started.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    let got = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the job did not finish after a worker was killed")
        .expect("the job failed after a worker was killed");
    assert_eq!(got, expected.totals);
    let reads = std::fs::read_dir(&log)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("read-"))
        .count();
    assert!(
        reads > 6,
        "the reading stage was recomputed ({reads} reads of 6 partitions)"
    );
    assert_eq!(dropped_records(&path), expected.malformed);
}

/// Counts each partition's rows into counter `rows`; the first attempt of
/// every partition also records a slot of its own and then fails.
#[barks::job]
fn counted_rows(n: u32, partitions: usize, markers: PathBuf) -> u64 {
    pipeline! {
        let numbers = parallelize((0..n).collect::<Vec<u32>>(), partitions);
        let counted = numbers.map_partitions_with_index(move |p, rows| {
            let rows: Vec<u32> = rows.collect();
            barks::counters::set("rows", p as u64, rows.len() as u64);
            if std::fs::create_dir(markers.join(format!("p{p}"))).is_ok() {
                barks::counters::add("rows", 1_000_000 + p as u64, 1_000);
                panic!("the first attempt of partition {p} fails");
            }
            rows
        });
        counted.count()
    }
}

#[test]
fn a_failed_attempt_s_counters_are_discarded_on_a_cluster() {
    let markers = tempfile::tempdir().unwrap();
    let ctx = Context::new("local-cluster[2,1]").unwrap();
    let dir = markers.path().to_path_buf();
    let got = bounded(move || ctx.run_job(counted_rows(1000, 5, dir))).unwrap();
    assert_eq!(got, 1000);
    assert_eq!(std::fs::read_dir(markers.path()).unwrap().count(), 5);
    assert_eq!(barks::counters::total("rows"), 1000);
}

/// The README's counters example.
#[barks::job]
fn count_evens(n: i64) -> u64 {
    pipeline! {
        let numbers = range(n);
        let evens = numbers.map_partitions_with_index(|partition, rows| {
            let (slot, mut odd) = (partition as u64, 0);
            barks::counters::set("odd numbers seen", slot, 0);
            rows.filter(move |x| {
                if x % 2 == 1 {
                    odd += 1;
                    barks::counters::set("odd numbers seen", slot, odd);
                }
                x % 2 == 0
            })
        });
        evens.count()
    }
}

#[test]
fn the_readme_counter_example_counts_on_a_cluster_and_locally() {
    for master in ["local-cluster[2,1]", "local[3]"] {
        barks::counters::reset("odd numbers seen");
        let evens = bounded(move || count_evens(101).run_on(master)).unwrap();
        assert_eq!(evens, 51, "{master}");
        assert_eq!(barks::counters::total("odd numbers seen"), 50, "{master}");
    }
}
