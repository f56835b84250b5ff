//! `parquet_bench [--mb N] [--data DIR] [--runs R] [--master M]`
//!
//! Parquet read and write throughput of barks against a hand-written reader
//! and writer that use the parquet crate alone (issue 4, "Speed").
//!
//! 1. Generates (once; kept if present) `<DIR>/input-<N>mb.parquet`: about
//!    `N` MiB (default 1024) of [`Rec`] rows, Snappy, 1 Mi rows per row group,
//!    written with the parquet crate's `ArrowWriter`. The rows are a pure
//!    function of their `id`, so the file is the same on every machine.
//! 2. Runs every phase `R` times (default 3), each run in a fresh child
//!    process of this binary so that its peak RSS (`VmHWM`) is its own:
//!    - `barks-read`: a `#[barks::job]` reading the file with `parquet_rows`
//!      into `#[derive(FromArrow)]` rows and folding them into a
//!      [`Checksum`];
//!    - `barks-read-serde`: the same with `parquet_file` (serde rows);
//!    - `baseline-read`: the same checksum from `ParquetRecordBatchReader`s
//!      over the row groups on 2 threads, converting to the same struct;
//!    - `barks-write`: `range(0, rows, 1, 2).map(Rec::generate)` saved with
//!      `save_as_parquet` (Snappy, 1 Mi rows per row group);
//!    - `baseline-write`: the same rows generated on 2 threads, built into
//!      Arrow arrays by hand and written with `ArrowWriter`, one file per
//!      thread, with the same properties.
//! 3. Checks that both reads agree with each other and that both written
//!    outputs read back to the input's checksum, and prints a markdown table
//!    of the best run of each phase (the least disturbed by other load on the
//!    machine) with the medians beside it.
//!
//! The input is read from the page cache (it was just written or read), so
//! the read numbers are decoding throughput, not disk throughput.

use arrow_array::{
    Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use barks::prelude::*;
use examples::cli::{self, Args, Help};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Both sides run on the same allocator, as in `barks-bench`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Rows per row group, on both sides (the parquet crate's default).
const ROW_GROUP_ROWS: usize = 1024 * 1024;
/// Rows per Arrow batch handed to the writer (barks' sink uses 8192 too).
const BATCH_ROWS: usize = 8192;
/// Threads of the hand-written baseline (= the slots of `local[2]`).
const BASELINE_THREADS: usize = 2;

/// One benchmark row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromArrow)]
struct Rec {
    id: u64,
    name: String,
    price: f64,
    qty: i32,
    ts: i64,
}

/// splitmix64: the deterministic source of every value of a row.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rec {
    /// The row with this `id`: a name of 8 to 24 letters, a price with
    /// cents, a quantity in -1000..1000 and an increasing timestamp.
    fn generate(id: u64) -> Rec {
        const LETTERS: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz012345";
        let h = mix(id);
        let (a, b) = (mix(h), mix(h ^ 0x5555));
        let len = 8 + (h % 17) as usize;
        let name = (0..len)
            .map(|i| {
                let bits = if i < 12 {
                    a >> (5 * i)
                } else {
                    b >> (5 * (i - 12))
                };
                char::from(LETTERS[(bits & 31) as usize])
            })
            .collect();
        Rec {
            id,
            name,
            price: ((h >> 8) % 1_000_000) as f64 / 100.0,
            qty: ((h >> 40) % 2000) as i32 - 1000,
            ts: 1_700_000_000_000 + id as i64 * 37 + (h >> 54) as i64,
        }
    }
}

/// An order-independent digest of a set of rows, so that any partitioning
/// gives the same value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Checksum {
    rows: u64,
    qty: i64,
    ids: u64,
    name_bytes: u64,
    names: u64,
    price_bits: u64,
    ts: i64,
}

impl Checksum {
    fn of(r: &Rec) -> Checksum {
        Checksum {
            rows: 1,
            qty: i64::from(r.qty),
            ids: r.id,
            name_bytes: r.name.len() as u64,
            names: r
                .name
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
            price_bits: r.price.to_bits(),
            ts: r.ts,
        }
    }

    fn merge(self, o: Checksum) -> Checksum {
        Checksum {
            rows: self.rows + o.rows,
            qty: self.qty + o.qty,
            ids: self.ids.wrapping_add(o.ids),
            name_bytes: self.name_bytes + o.name_bytes,
            names: self.names.wrapping_add(o.names),
            price_bits: self.price_bits.wrapping_add(o.price_bits),
            ts: self.ts.wrapping_add(o.ts),
        }
    }
}

// ---- barks ----------------------------------------------------------------

#[barks::job]
fn barks_read(path: String) -> Checksum {
    pipeline! {
        let rows = parquet_rows(path, ParquetOptions::new());
        rows.map(|r: Rec| Checksum::of(&r)).fold(Checksum::default(), |a, b| a.merge(b))
    }
}

#[barks::job]
fn barks_read_serde(path: String) -> Checksum {
    pipeline! {
        let rows = parquet_file(path, ParquetOptions::new());
        rows.map(|r: Rec| Checksum::of(&r)).fold(Checksum::default(), |a, b| a.merge(b))
    }
}

#[barks::job]
fn barks_write(rows: i64, dir: String) -> () {
    pipeline! {
        let ids = range(0, rows, 1, 2);
        ids.map(|id: i64| Rec::generate(id as u64))
            .save_as_parquet(dir, ParquetWriteOptions::new()
                .compression(ParquetCompression::Snappy)
                .row_group_size(ROW_GROUP_ROWS))
    }
}

// ---- the hand-written baseline (parquet crate only) -----------------------

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::UInt64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("price", DataType::Float64, false),
        Field::new("qty", DataType::Int32, false),
        Field::new("ts", DataType::Int64, false),
    ]))
}

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// The rows as one Arrow batch, column by column.
fn to_batch(schema: &SchemaRef, rows: &[Rec]) -> Result<RecordBatch, BoxError> {
    Ok(RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.id))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.name))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.price))),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.qty))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.ts))),
        ],
    )?)
}

/// Writes the rows `ids` to `path`; with `stop_at_bytes`, stops at the
/// first row-group boundary past that size. Returns the rows written.
fn write_rows(
    path: &Path,
    ids: std::ops::Range<u64>,
    stop_at_bytes: Option<u64>,
) -> Result<u64, BoxError> {
    let schema = schema();
    let mut writer = ArrowWriter::try_new(File::create(path)?, schema.clone(), Some(properties()))?;
    let mut id = ids.start;
    while id < ids.end {
        let end = ids.end.min(id + BATCH_ROWS as u64);
        let rows: Vec<Rec> = (id..end).map(Rec::generate).collect();
        writer.write(&to_batch(&schema, &rows)?)?;
        id = end;
        if (id - ids.start).is_multiple_of(ROW_GROUP_ROWS as u64)
            && stop_at_bytes.is_some_and(|limit| writer.bytes_written() as u64 >= limit)
        {
            break;
        }
    }
    writer.close()?;
    Ok(id - ids.start)
}

fn column<'a, A: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a A, BoxError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<A>())
        .ok_or_else(|| format!("column `{name}` is missing or has another type").into())
}

/// The checksum of one batch, through the same `Rec`s barks builds.
fn batch_checksum(batch: &RecordBatch) -> Result<Checksum, BoxError> {
    let ids = column::<UInt64Array>(batch, "id")?;
    let names = column::<StringArray>(batch, "name")?;
    let prices = column::<Float64Array>(batch, "price")?;
    let qtys = column::<Int32Array>(batch, "qty")?;
    let tss = column::<Int64Array>(batch, "ts")?;
    if names.null_count() > 0 {
        return Err("null names".into());
    }
    Ok((0..batch.num_rows())
        .map(|i| Rec {
            id: ids.value(i),
            name: names.value(i).to_string(),
            price: prices.value(i),
            qty: qtys.value(i),
            ts: tss.value(i),
        })
        .fold(Checksum::default(), |sum, r| sum.merge(Checksum::of(&r))))
}

/// The checksum of the Parquet `files`: their row groups are shared out to
/// [`BASELINE_THREADS`] threads, each decoding with its own reader.
fn baseline_read(files: &[PathBuf]) -> Result<Checksum, BoxError> {
    let mut groups = Vec::new();
    for file in files {
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(file)?)?;
        groups.extend((0..builder.metadata().num_row_groups()).map(|g| (file.clone(), g)));
    }
    let next = AtomicUsize::new(0);
    let worker = || -> Result<Checksum, BoxError> {
        let mut sum = Checksum::default();
        while let Some((file, group)) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(file)?)?
                .with_row_groups(vec![*group])
                .with_batch_size(BATCH_ROWS)
                .build()?;
            for batch in reader {
                sum = sum.merge(batch_checksum(&batch?)?);
            }
        }
        Ok(sum)
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..BASELINE_THREADS).map(|_| s.spawn(worker)).collect();
        handles.into_iter().try_fold(Checksum::default(), |sum, h| {
            Ok(sum.merge(h.join().map_err(|_| "a reader thread panicked")??))
        })
    })
}

/// Writes rows `0..rows` as [`BASELINE_THREADS`] part files in `dir`.
fn baseline_write(rows: u64, dir: &Path) -> Result<(), BoxError> {
    std::fs::create_dir_all(dir)?;
    let per_thread = rows.div_ceil(BASELINE_THREADS as u64);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..BASELINE_THREADS as u64)
            .map(|t| {
                let ids = (t * per_thread).min(rows)..((t + 1) * per_thread).min(rows);
                let path = dir.join(format!("part-{t:05}.parquet"));
                s.spawn(move || write_rows(&path, ids, None))
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| "a writer thread panicked")?.map(drop))
    })
}

// ---- the driver ----------------------------------------------------------

/// What one child process measured.
struct Measured {
    secs: f64,
    peak_rss_kib: u64,
    /// The `Debug` form of the checksum a read computed.
    checksum: Option<String>,
}

/// This process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> Result<u64, BoxError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}

/// The Parquet files of a file or an output directory.
fn parquet_files(path: &Path) -> Result<Vec<PathBuf>, BoxError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|f| f.extension().is_some_and(|e| e == "parquet"));
    files.sort();
    Ok(files)
}

fn bytes_of(path: &Path) -> Result<u64, BoxError> {
    parquet_files(path)?
        .iter()
        .try_fold(0, |n, f| Ok(n + std::fs::metadata(f)?.len()))
}

/// Runs one phase in this process (the child side) and prints its result.
fn run_phase(phase: &str, args: &Args) -> Result<(), BoxError> {
    let input = args.get("input").ok_or("--input is missing")?.to_string();
    let out = PathBuf::from(args.get("out").ok_or("--out is missing")?);
    let rows: i64 = args.get_or("rows", 0)?;
    let ctx = Context::new(&args.master())?;
    let start = Instant::now();
    let checksum = match phase {
        "barks-read" => Some(ctx.run_job(barks_read(input))?),
        "barks-read-serde" => Some(ctx.run_job(barks_read_serde(input))?),
        "baseline-read" => Some(baseline_read(&[PathBuf::from(input)])?),
        "barks-write" => {
            ctx.run_job(barks_write(rows, out.display().to_string()))?;
            None
        }
        "baseline-write" => {
            baseline_write(rows as u64, &out)?;
            None
        }
        _ => return Err(format!("unknown --phase {phase}").into()),
    };
    let secs = start.elapsed().as_secs_f64();
    let sum = checksum.map_or("-".to_string(), |c| format!("{c:?}"));
    println!("RESULT {secs:.6} {} {sum}", peak_rss_kib()?);
    Ok(())
}

/// Runs `phase` in a child process.
fn measure(
    phase: &str,
    input: &Path,
    out: &Path,
    rows: u64,
    master: &str,
) -> Result<Measured, BoxError> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    let output = Command::new(std::env::current_exe()?)
        .args([
            "--phase",
            phase,
            "--master",
            master,
            "--rows",
            &rows.to_string(),
        ])
        .arg("--input")
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| {
            format!(
                "{phase} failed: {}{}",
                stdout,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let mut parts = line.splitn(3, ' ');
    let secs = parts.next().unwrap_or_default().parse()?;
    let peak_rss_kib = parts.next().unwrap_or_default().parse()?;
    let checksum = parts.next().filter(|c| *c != "-").map(str::to_string);
    Ok(Measured {
        secs,
        peak_rss_kib,
        checksum,
    })
}

/// The best and the median run of one phase, and the largest peak RSS of
/// its runs.
struct Summary {
    best: f64,
    median: f64,
    peak_rss_kib: u64,
}

fn summarize(mut runs: Vec<Measured>) -> Summary {
    runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    Summary {
        best: runs[0].secs,
        median: runs[runs.len() / 2].secs,
        peak_rss_kib: runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0),
    }
}

/// The input file, generated first if it is missing (into a temporary
/// name, so that an interrupted generation is not mistaken for the input).
fn input_file(data: &Path, mb: u64) -> Result<PathBuf, BoxError> {
    let input = data.join(format!("input-{mb}mb.parquet"));
    if !input.exists() {
        std::fs::create_dir_all(data)?;
        let partial = data.join(format!(".input-{mb}mb.parquet.partial"));
        eprintln!("generating {} ...", input.display());
        let rows = write_rows(&partial, 0..u64::MAX, Some(mb << 20))?;
        std::fs::rename(&partial, &input)?;
        eprintln!("generated {rows} rows");
    }
    Ok(input)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The parent: generates the input, runs every phase `--runs` times in
/// child processes (interleaved, so that a change of machine load hits both
/// sides alike), checks the results and prints the table.
fn drive(args: &Args) -> Result<(), BoxError> {
    let mb: u64 = args.get_or("mb", 1024)?;
    let runs: usize = args.get_or("runs", 3)?;
    let data = PathBuf::from(args.get("data").unwrap_or("bench-data/parquet"));
    let master = args.get("master").unwrap_or("local[2]").to_string();
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let input = input_file(&data, mb)?;
    let rows = ParquetRecordBatchReaderBuilder::try_new(File::open(&input)?)?
        .metadata()
        .file_metadata()
        .num_rows() as u64;
    let input_bytes = bytes_of(&input)?;
    // Also brings the input into the page cache before the first timed run.
    let expected = baseline_read(std::slice::from_ref(&input))?;
    let expected_text = format!("{expected:?}");
    let load_before = load_average();

    let phases = [
        "barks-read",
        "barks-read-serde",
        "baseline-read",
        "barks-write",
        "baseline-write",
    ];
    let mut measured: Vec<Vec<Measured>> = phases.iter().map(|_| Vec::new()).collect();
    for run in 1..=runs {
        for (phase, results) in phases.iter().zip(&mut measured) {
            let out = data.join(format!(
                "out-{}",
                phase.trim_end_matches("-write").trim_end_matches("-read")
            ));
            let m = measure(phase, &input, &out, rows, &master)?;
            eprintln!(
                "run {run}: {phase}: {:.3} s, peak RSS {} MiB",
                m.secs,
                m.peak_rss_kib >> 10
            );
            if let Some(sum) = &m.checksum
                && *sum != expected_text
            {
                return Err(format!("{phase} computed {sum}, expected {expected_text}").into());
            }
            results.push(m);
        }
    }
    // The outputs of the last write runs must read back to the input.
    let mut written = Vec::new();
    for side in ["barks", "baseline"] {
        let out = data.join(format!("out-{side}"));
        let files = parquet_files(&out)?;
        let sum = baseline_read(&files)?;
        if sum != expected {
            return Err(format!("{side}-write wrote {sum:?}, expected {expected:?}").into());
        }
        written.push(bytes_of(&out)?);
    }

    let [
        barks_read,
        barks_read_serde,
        baseline_read,
        barks_write,
        baseline_write,
    ] = <[Vec<Measured>; 5]>::try_from(measured)
        .map_err(|_| "five phases")?
        .map(summarize);
    println!(
        "parquet_bench: {rows} rows, input {:.1} MiB (Snappy, {ROW_GROUP_ROWS} rows per row group), \
         master {master}, baseline {BASELINE_THREADS} threads, best of {runs} runs (medians in the last column); \
         load average {load_before} before, {} after; {} CPUs",
        input_bytes as f64 / 1048576.0,
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
    println!(
        "| operation | barks s | baseline s | barks / baseline | barks MiB/s | baseline MiB/s | barks rows/s | baseline rows/s | barks peak RSS | baseline peak RSS | median s (barks / baseline) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let rows_f = rows as f64;
    for (op, barks, base, (barks_bytes, base_bytes)) in [
        (
            "read (`parquet_rows`, `FromArrow` rows → checksum)",
            barks_read,
            &baseline_read,
            (input_bytes, input_bytes),
        ),
        (
            "read (`parquet_file`, serde rows → checksum)",
            barks_read_serde,
            &baseline_read,
            (input_bytes, input_bytes),
        ),
        (
            "write (generate → Parquet)",
            barks_write,
            &baseline_write,
            (written[0], written[1]),
        ),
    ] {
        let mib_s = |bytes: u64, secs: f64| bytes as f64 / 1048576.0 / secs;
        println!(
            "| {op} | {:.2} | {:.2} | {:.2}× | {:.0} | {:.0} | {:.2} M | {:.2} M | {} MiB | {} MiB | {:.2} / {:.2} |",
            barks.best,
            base.best,
            barks.best / base.best,
            mib_s(barks_bytes, barks.best),
            mib_s(base_bytes, base.best),
            rows_f / barks.best / 1e6,
            rows_f / base.best / 1e6,
            barks.peak_rss_kib >> 10,
            base.peak_rss_kib >> 10,
            barks.median,
            base.median,
        );
    }
    Ok(())
}

const HELP: Help = Help {
    usage: "parquet_bench [--mb N] [--data DIR] [--runs R] [--master URL]",
    about: "Parquet read and write throughput of barks against a hand-written reader and \
        writer that use the parquet crate alone. Generates <DIR>/input-<N>mb.parquet once, runs \
        every phase R times, each in a child process of this binary, checks that the results \
        agree and prints a markdown table of the best run of each phase with the medians.",
    flags: &[
        ("--mb N", "the input's size in MiB (default 1024)"),
        (
            "--data DIR",
            "where the input is kept (default bench-data/parquet)",
        ),
        ("--runs R", "runs of every phase (default 3)"),
        (
            "--master URL",
            "where the barks phases run (default local[2]; BARKS_MASTER is not read)",
        ),
        (
            "--phase P, --input PATH, --out DIR, --rows N",
            "what the parent passes the child process that runs one phase",
        ),
    ],
    env: &[cli::ENV_LOG],
    runs_jobs: false,
};

fn main() -> ExitCode {
    let run = || -> Result<(), BoxError> {
        let args = Args::from_env(&[], &HELP)?;
        match args.get("phase") {
            Some(phase) => run_phase(phase, &args),
            None => drive(&args),
        }
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parquet_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
