//! TPC-H on barks' SQL, and on plain DataFusion as its baseline: what
//! `barks-bench tpch` runs (feature `sql`).
//!
//! The data is the 8 tables as `DIR/<table>.parquet`, the layout
//! `scripts/tpch/setup.sh --scale SF --dir DIR` writes; the queries are the
//! 22 `qN.sql` files of `barks-sql/tests/tpch/queries`, read at run time.
//!
//! - [`Engine::barks`]: a [`Session`] on the master, each table registered
//!   with `session.read().parquet(..)` as a temporary view.
//! - [`Engine::datafusion`]: the baseline, no barks: DataFusion's own
//!   `SessionContext` with as many target partitions as the master has
//!   threads, the tables registered with `register_parquet`, the queries run
//!   on a multi-thread tokio runtime with that many worker threads.
//!
//! A query's time runs from its SQL text to its last batch collected on the
//! driver: parsing, planning, optimizing and executing, alike on both
//! engines. [`run`] runs every query `rounds` times on each engine asked
//! for; with both, the runs are interleaved query by query (barks then
//! DataFusion, then DataFusion then barks, ...) so that both see the same
//! machine, and each query reports the median of its rounds.

use crate::jobs::JobResult;
use barks::sql::Session;
use barks::sql::datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The 8 TPC-H tables, each read from `<data>/<table>.parquet`.
pub const TABLES: [&str; 8] = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

/// The TPC-H queries are numbered `1..=NUM_QUERIES`.
pub const NUM_QUERIES: usize = 22;

/// Where the query texts are in this repository:
/// `barks-sql/tests/tpch/queries/qN.sql`.
pub fn default_queries_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../barks-sql/tests/tpch/queries")
}

/// One TPC-H query: its number and its SQL text (one statement).
#[derive(Debug, Clone)]
pub struct Query {
    pub number: usize,
    pub sql: String,
}

impl Query {
    /// `q<number>`, as the query is named in the output.
    pub fn name(&self) -> String {
        format!("q{}", self.number)
    }
}

/// The query numbers of `--queries`: numbers and ranges separated by
/// commas (`1,6,14`, `1-5,22`), in the order given, each once; all 22 when
/// `list` is `None`.
pub fn parse_query_list(list: Option<&str>) -> Result<Vec<usize>, String> {
    let Some(list) = list else {
        return Ok((1..=NUM_QUERIES).collect());
    };
    let number = |s: &str| -> Result<usize, String> {
        match s.trim().parse() {
            Ok(n) if (1..=NUM_QUERIES).contains(&n) => Ok(n),
            _ => Err(format!(
                "--queries: `{s}` is not a query number (1 to {NUM_QUERIES})"
            )),
        }
    };
    let mut numbers = Vec::new();
    for item in list.split(',').filter(|s| !s.trim().is_empty()) {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(item)?, number(item)?),
        };
        for n in first..=last {
            if !numbers.contains(&n) {
                numbers.push(n);
            }
        }
    }
    if numbers.is_empty() {
        return Err(format!("--queries: `{list}` names no query"));
    }
    Ok(numbers)
}

/// Reads `dir/qN.sql` for every `N` of `numbers`.
pub fn load_queries(dir: &Path, numbers: &[usize]) -> JobResult<Vec<Query>> {
    numbers
        .iter()
        .map(|&number| {
            let path = dir.join(format!("q{number}.sql"));
            let sql = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok(Query { number, sql })
        })
        .collect()
}

/// The Parquet file of every table in `data`; an error names the first one
/// missing and how to generate them.
pub fn table_files(data: &Path) -> JobResult<Vec<(&'static str, String)>> {
    TABLES
        .iter()
        .map(|&table| {
            let path = data.join(format!("{table}.parquet"));
            if !path.exists() {
                return Err(format!(
                    "{} does not exist; generate the tables with \
                     `bash scripts/tpch/setup.sh --scale SF --dir {}`",
                    path.display(),
                    data.display()
                )
                .into());
            }
            let path = path
                .to_str()
                .ok_or_else(|| format!("{} is not UTF-8", path.display()))?;
            Ok((table, path.to_string()))
        })
        .collect()
}

/// Which engine a query runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// barks' SQL: DataFusion plans, barks runs the stages.
    Barks,
    /// Plain DataFusion, the baseline.
    DataFusion,
}

impl Side {
    /// The engine's name in the output.
    pub fn name(self) -> &'static str {
        match self {
            Side::Barks => "barks",
            Side::DataFusion => "datafusion",
        }
    }
}

/// What `barks-bench tpch` was asked to run.
pub struct Options {
    /// The directory of the `<table>.parquet` files.
    pub data: PathBuf,
    /// The queries, in the order they run.
    pub queries: Vec<Query>,
    /// barks' master; the baseline runs on as many threads as it names.
    pub master: String,
    /// The engines to run, one or both.
    pub sides: Vec<Side>,
    /// How many times each query runs on each engine.
    pub rounds: usize,
}

/// An engine with the 8 tables registered.
pub enum Engine {
    /// A barks SQL session.
    Barks(Session),
    /// DataFusion alone, and the runtime its queries run on.
    DataFusion {
        context: SessionContext,
        runtime: tokio::runtime::Runtime,
    },
}

impl Engine {
    /// A barks session on `master`, `tables` registered as views.
    pub fn barks(master: &str, tables: &[(&str, String)]) -> JobResult<Engine> {
        let session = Session::new(master)?;
        for (table, path) in tables {
            session
                .read()
                .parquet(path)?
                .create_or_replace_temp_view(table)?;
        }
        Ok(Engine::Barks(session))
    }

    /// Plain DataFusion with `threads` target partitions and tokio worker
    /// threads, `tables` registered with `register_parquet`.
    pub fn datafusion(threads: usize, tables: &[(&str, String)]) -> JobResult<Engine> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?;
        let config = SessionConfig::new().with_target_partitions(threads);
        let context = SessionContext::new_with_config(config);
        runtime.block_on(async {
            for (table, path) in tables {
                context
                    .register_parquet(*table, path, ParquetReadOptions::default())
                    .await?;
            }
            Ok::<_, barks::sql::datafusion::error::DataFusionError>(())
        })?;
        Ok(Engine::DataFusion { context, runtime })
    }

    /// Starts the engine of `side` with the tables of `data`.
    pub fn start(side: Side, master: &str, tables: &[(&str, String)]) -> JobResult<Engine> {
        match side {
            Side::Barks => Engine::barks(master, tables),
            Side::DataFusion => Engine::datafusion(crate::cli::threads_of(master)?, tables),
        }
    }

    /// Runs `sql` to its last batch; returns the number of rows.
    pub fn run(&self, sql: &str) -> JobResult<usize> {
        let batches = match self {
            Engine::Barks(session) => session.sql(sql)?.collect()?,
            Engine::DataFusion { context, runtime } => {
                runtime.block_on(async { context.sql(sql).await?.collect().await })?
            }
        };
        Ok(batches.iter().map(|b| b.num_rows()).sum())
    }

    /// Runs `sql` and times it.
    pub fn time(&self, sql: &str) -> JobResult<Sample> {
        let start = Instant::now();
        let rows = self.run(sql)?;
        Ok(Sample {
            seconds: start.elapsed().as_secs_f64(),
            rows,
        })
    }
}

/// One run of one query.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub seconds: f64,
    pub rows: usize,
}

/// Every run of one query, per engine.
#[derive(Debug, Clone)]
pub struct QueryTimes {
    /// `qN`.
    pub name: String,
    /// The runs on barks (empty when barks did not run).
    pub barks: Vec<Sample>,
    /// The runs on DataFusion (empty when the baseline did not run).
    pub datafusion: Vec<Sample>,
}

impl QueryTimes {
    /// The runs on `side`.
    pub fn samples(&self, side: Side) -> &[Sample] {
        match side {
            Side::Barks => &self.barks,
            Side::DataFusion => &self.datafusion,
        }
    }

    /// The median seconds of the runs on `side` (0 with none).
    pub fn median(&self, side: Side) -> f64 {
        median(self.samples(side).iter().map(|s| s.seconds).collect())
    }

    /// The rows the query returned on `side`, if it ran there.
    pub fn rows(&self, side: Side) -> Option<usize> {
        self.samples(side).first().map(|s| s.rows)
    }

    /// The rows column: one count, or both when the engines disagree.
    fn rows_cell(&self, sides: &[Side]) -> String {
        let rows: Vec<usize> = sides.iter().filter_map(|&s| self.rows(s)).collect();
        match rows.as_slice() {
            [a, b] if a != b => format!("{a} vs {b} (DIFFER)"),
            [a, ..] => a.to_string(),
            [] => String::new(),
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count;
/// 0 for none).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// What a TPC-H run measured.
pub struct Report {
    /// The engines that ran, in the order of [`Options::sides`].
    pub sides: Vec<Side>,
    /// Every query's runs, in the order they ran.
    pub queries: Vec<QueryTimes>,
}

impl Report {
    /// The sum over the queries of their median seconds on `side`.
    pub fn total(&self, side: Side) -> f64 {
        self.queries.iter().map(|q| q.median(side)).sum()
    }

    /// Whether both engines ran.
    fn compares(&self) -> bool {
        self.sides.len() == 2
    }

    /// The column titles of the table.
    fn header(&self) -> String {
        let mut line = format!("{:<7}", "query");
        for side in &self.sides {
            let _ = write!(line, "{:>14}", format!("{}_s", side.name()));
        }
        if self.compares() {
            let _ = write!(line, "{:>18}", "barks/datafusion");
        }
        let _ = write!(line, "  rows");
        line
    }

    /// One line of the table: `name`, the seconds of each engine, their
    /// ratio when both ran, and `rows`.
    fn line(&self, name: &str, seconds: &[f64], rows: &str) -> String {
        let mut line = format!("{name:<7}");
        for s in seconds {
            let _ = write!(line, "{s:>14.4}");
        }
        if let [barks, datafusion] = seconds {
            let _ = write!(line, "{:>18.2}", ratio(*barks, *datafusion));
        }
        if !rows.is_empty() {
            let _ = write!(line, "  {rows}");
        }
        line
    }

    /// The table line of `query`.
    fn query_line(&self, query: &QueryTimes) -> String {
        let seconds: Vec<f64> = self.sides.iter().map(|&s| query.median(s)).collect();
        self.line(&query.name, &seconds, &query.rows_cell(&self.sides))
    }

    /// The table line of the totals.
    fn total_line(&self) -> String {
        let seconds: Vec<f64> = self.sides.iter().map(|&s| self.total(s)).collect();
        self.line("total", &seconds, "")
    }

    /// The JSON object of the `RESULT` line: `total_s` and `queries` (each
    /// query's median seconds) of the first engine, barks unless only the
    /// baseline ran; with both, the baseline's as `baseline_total_s` and
    /// `baseline_queries`, and `ratio` (barks' total over DataFusion's);
    /// and `peak_rss_mib` when known.
    pub fn result_json(&self, peak_rss_kib: Option<u64>) -> String {
        let per_query = |side: Side| -> String {
            let items: Vec<String> = self
                .queries
                .iter()
                .map(|q| format!("\"{}\": {:.6}", q.name, q.median(side)))
                .collect();
            format!("{{{}}}", items.join(", "))
        };
        let first = self.sides[0];
        let mut json = format!(
            "{{\"total_s\": {:.6}, \"queries\": {}",
            self.total(first),
            per_query(first)
        );
        if self.compares() {
            let baseline = self.sides[1];
            let _ = write!(
                json,
                ", \"baseline_total_s\": {:.6}, \"baseline_queries\": {}, \"ratio\": {:.4}",
                self.total(baseline),
                per_query(baseline),
                ratio(self.total(first), self.total(baseline))
            );
        }
        if let Some(kib) = peak_rss_kib {
            let _ = write!(json, ", \"peak_rss_mib\": {:.1}", kib as f64 / 1024.0);
        }
        json.push('}');
        json
    }
}

/// `a / b`, or NaN when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// Runs `options`' queries and prints, to `out`, a header, a table line per
/// query as it finishes (the median of its rounds on each engine, their
/// ratio when both ran, the rows returned) and the totals. A query that
/// fails on an engine ends the run with an error naming it.
pub fn run(options: &Options, out: &mut dyn Write) -> JobResult<Report> {
    let tables = table_files(&options.data)?;
    let rounds = options.rounds.max(1);
    let mut engines = Vec::new();
    for &side in &options.sides {
        let start = Instant::now();
        let engine = Engine::start(side, &options.master, &tables)?;
        let seconds = start.elapsed().as_secs_f64();
        writeln!(
            out,
            "{}: {}; tables registered in {seconds:.3} s",
            side.name(),
            describe(&engine, &options.master)
        )?;
        engines.push((side, engine));
    }
    let mut report = Report {
        sides: options.sides.clone(),
        queries: Vec::new(),
    };
    writeln!(
        out,
        "TPC-H {}: {} queries, {rounds} round{}{}, {} in seconds; data {}",
        if report.compares() {
            "on barks against DataFusion".to_string()
        } else {
            format!("on {}", options.sides[0].name())
        },
        options.queries.len(),
        if rounds == 1 { "" } else { "s" },
        if report.compares() {
            " interleaved"
        } else {
            ""
        },
        if rounds == 1 { "times" } else { "medians" },
        options.data.display()
    )?;
    writeln!(out, "{}", report.header())?;
    for query in &options.queries {
        let times = run_query(query, &engines, rounds)?;
        if let [a, b] = report.sides[..]
            && times.rows(a) != times.rows(b)
        {
            eprintln!(
                "barks-bench tpch: {}: barks returned {:?} rows, DataFusion {:?}",
                times.name,
                times.rows(Side::Barks),
                times.rows(Side::DataFusion)
            );
        }
        writeln!(out, "{}", report.query_line(&times))?;
        report.queries.push(times);
    }
    writeln!(out, "{}", report.total_line())?;
    Ok(report)
}

/// The engine in a few words: barks' master and shuffle partitions, or
/// DataFusion's threads.
fn describe(engine: &Engine, master: &str) -> String {
    match engine {
        Engine::Barks(session) => format!(
            "master {master}, {} shuffle partitions",
            session.shuffle_partitions()
        ),
        Engine::DataFusion { context, .. } => format!(
            "plain DataFusion, {} target partitions and tokio worker threads",
            context.state().config().target_partitions()
        ),
    }
}

/// Runs `query` `rounds` times on every engine of `engines`, alternating
/// which goes first from one round to the next.
fn run_query(query: &Query, engines: &[(Side, Engine)], rounds: usize) -> JobResult<QueryTimes> {
    let mut times = QueryTimes {
        name: query.name(),
        barks: Vec::new(),
        datafusion: Vec::new(),
    };
    for round in 0..rounds {
        let mut order: Vec<&(Side, Engine)> = engines.iter().collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for (side, engine) in order {
            let sample = engine
                .time(&query.sql)
                .map_err(|e| format!("{} on {}: {e}", query.name(), side.name()))?;
            match side {
                Side::Barks => times.barks.push(sample),
                Side::DataFusion => times.datafusion.push(sample),
            }
        }
    }
    Ok(times)
}

/// This process's peak resident set size in KiB (`VmHWM` of
/// `/proc/self/status`); `None` where there is no such file.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_take_numbers_and_ranges() {
        assert_eq!(parse_query_list(None).unwrap().len(), NUM_QUERIES);
        assert_eq!(parse_query_list(Some("1,6,14")).unwrap(), [1, 6, 14]);
        assert_eq!(parse_query_list(Some("3-5, 1,4")).unwrap(), [3, 4, 5, 1]);
        assert!(parse_query_list(Some("0")).is_err());
        assert!(parse_query_list(Some("23")).is_err());
        assert!(parse_query_list(Some("x")).is_err());
        assert!(parse_query_list(Some(",")).is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn every_query_file_is_there() {
        let queries = load_queries(&default_queries_dir(), &parse_query_list(None).unwrap());
        let queries = queries.unwrap();
        assert_eq!(queries.len(), NUM_QUERIES);
        assert!(
            queries
                .iter()
                .all(|q| q.sql.to_lowercase().contains("select"))
        );
    }

    #[test]
    fn the_result_line_has_totals_and_each_query() {
        let sample = |seconds| Sample { seconds, rows: 4 };
        let report = Report {
            sides: vec![Side::Barks, Side::DataFusion],
            queries: vec![QueryTimes {
                name: "q1".into(),
                barks: vec![sample(3.0), sample(1.0), sample(2.0)],
                datafusion: vec![sample(1.0), sample(1.0), sample(1.0)],
            }],
        };
        assert_eq!(
            report.result_json(Some(2048)),
            "{\"total_s\": 2.000000, \"queries\": {\"q1\": 2.000000}, \
             \"baseline_total_s\": 1.000000, \"baseline_queries\": {\"q1\": 1.000000}, \
             \"ratio\": 2.0000, \"peak_rss_mib\": 2.0}"
        );
        assert!(report.total_line().starts_with("total"));
        assert!(report.query_line(&report.queries[0]).ends_with("2.00  4"));
    }
}
