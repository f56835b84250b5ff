//! The `barks` command line: `barks sql` run as a user runs it, its rows
//! on stdout in each format, its `Time taken` lines on stderr, its errors
//! and exit statuses.
#![cfg(feature = "sql")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// What a run of `barks` printed, and how it exited.
struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
            code: output.status.code(),
        }
    }
}

/// `barks` with `args`, standard input closed.
fn barks(args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_barks"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("barks runs")
        .into()
}

/// `barks` with `args`, `input` piped to its standard input.
fn barks_with_input(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_barks"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("barks runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(input.as_bytes())
        .expect("barks reads stdin");
    drop(stdin);
    child.wait_with_output().expect("barks exits").into()
}

/// The `Time taken: S seconds[, Fetched N row(s)]` lines of `stderr`: for
/// each, the rows fetched (`None` for a statement that returns no rows,
/// such as DDL). Panics on a line that does not have the form, or whose
/// seconds do not have 3 decimals.
fn time_lines(stderr: &str) -> Vec<Option<usize>> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("Time taken: "))
        .map(|rest| {
            let (seconds, fetched) = match rest.split_once(" seconds") {
                Some(parts) => parts,
                None => panic!("no ` seconds` in `{rest}`"),
            };
            let (whole, decimals) = seconds.split_once('.').expect("seconds have decimals");
            assert!(
                !whole.is_empty()
                    && whole.chars().all(|c| c.is_ascii_digit())
                    && decimals.len() == 3
                    && decimals.chars().all(|c| c.is_ascii_digit()),
                "seconds `{seconds}` are not like 0.123"
            );
            if fetched.is_empty() {
                return None;
            }
            let rows = fetched
                .strip_prefix(", Fetched ")
                .and_then(|f| f.strip_suffix(" row(s)"))
                .unwrap_or_else(|| panic!("`{fetched}` is not `, Fetched N row(s)`"));
            Some(rows.parse().expect("a row count"))
        })
        .collect()
}

/// A query whose rows have a NULL in each of a string, a date, a decimal and
/// a float column, and a string with a comma and quotes.
const VALUES: &str = "SELECT * FROM (VALUES \
    (1, 'plain', DATE '2024-01-02', CAST(1.50 AS DECIMAL(10,2)), CAST(2.5 AS DOUBLE)), \
    (2, 'a,b \"q\"', NULL, NULL, NULL), \
    (3, NULL, DATE '1999-12-31', CAST(-3 AS DECIMAL(10,2)), CAST(-0.125 AS DOUBLE))\
    ) AS t(i, s, d, m, f) ORDER BY i";

/// `VALUES` printed in `format` (checking the stderr line too).
fn values_as(format: &str) -> String {
    let run = barks(&[
        "sql", "--master", "local[2]", "--format", format, "-e", VALUES,
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(time_lines(&run.stderr), [Some(3)], "stderr: {}", run.stderr);
    run.stdout
}

#[test]
fn table_format() {
    assert_eq!(
        values_as("table"),
        "\
+---+-------+----------+-----+------+
|  i|      s|         d|    m|     f|
+---+-------+----------+-----+------+
|  1|  plain|2024-01-02| 1.50|   2.5|
|  2|a,b \"q\"|      NULL| NULL|  NULL|
|  3|   NULL|1999-12-31|-3.00|-0.125|
+---+-------+----------+-----+------+
"
    );
}

#[test]
fn csv_format() {
    assert_eq!(
        values_as("csv"),
        "\
i,s,d,m,f
1,plain,2024-01-02,1.50,2.5
2,\"a,b \"\"q\"\"\",,,
3,,1999-12-31,-3.00,-0.125
"
    );
}

#[test]
fn tsv_format() {
    assert_eq!(
        values_as("tsv"),
        "\
1\tplain\t2024-01-02\t1.50\t2.5
2\ta,b \"q\"\t\t\t
3\t\t1999-12-31\t-3.00\t-0.125
"
    );
}

#[test]
fn json_format() {
    assert_eq!(
        values_as("json"),
        r#"{"i":1,"s":"plain","d":"2024-01-02","m":1.50,"f":2.5}
{"i":2,"s":"a,b \"q\"","d":null,"m":null,"f":null}
{"i":3,"s":null,"d":"1999-12-31","m":-3.00,"f":-0.125}
"#
    );
}

#[test]
fn tsv_floats_are_plain_decimals() {
    let run = barks(&[
        "sql",
        "--master",
        "local[1]",
        "--format",
        "tsv",
        "-e",
        "SELECT CAST(1e20 AS DOUBLE), CAST(1e-7 AS DOUBLE), CAST(3 AS DOUBLE), \
         CAST(0.1 AS FLOAT), CAST(123456.789 AS DECIMAL(12,4))",
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        run.stdout,
        "100000000000000000000.0\t0.0000001\t3.0\t0.1\t123456.7890\n"
    );
}

/// A script of a view, two queries on it and one without, and `SET`.
const SCRIPT: &str = "\
-- a view; then queries on it
CREATE VIEW v AS SELECT * FROM (VALUES (1, 'a;b'), (2, 'c'), (3, 'd')) AS t(x, y);
SELECT x, y FROM v WHERE x < 3 ORDER BY x;
SET datafusion.execution.batch_size = 1024;
/* the last statement has no `;` */
SELECT count(*) AS n FROM v
";

/// Checks what `SCRIPT` printed.
fn check_script_run(run: &Run) {
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "x,y\n1,a;b\n2,c\nn\n3\n");
    assert_eq!(
        time_lines(&run.stderr),
        [None, Some(2), None, Some(1)],
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn several_statements_with_e_run_in_order() {
    let run = barks(&[
        "sql", "--master", "local[2]", "--format", "csv", "-e", SCRIPT,
    ]);
    check_script_run(&run);
}

#[test]
fn a_file_of_statements_runs_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.sql");
    std::fs::write(&path, SCRIPT).unwrap();
    let path = path.to_str().unwrap();
    let run = barks(&["sql", "--master", "local[2]", "--format", "csv", "-f", path]);
    check_script_run(&run);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.sql");
    let path = path.to_str().unwrap();
    let run = barks(&["sql", "--master", "local[1]", "-f", path]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.starts_with("Error: "), "stderr: {}", run.stderr);
    assert!(run.stderr.contains(path), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn a_syntax_error_stops_the_run_with_its_line_and_column() {
    let run = barks(&[
        "sql",
        "--master",
        "local[1]",
        "--format",
        "csv",
        "-e",
        "SELECT 1 AS one; SELECT * FORM t; SELECT 3 AS three",
    ]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    // The first statement ran, the third did not.
    assert_eq!(run.stdout, "one\n1\n");
    assert_eq!(time_lines(&run.stderr), [Some(1)], "stderr: {}", run.stderr);
    let error = (run.stderr.lines())
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no `Error:` in {}", run.stderr));
    assert!(error.contains("Line: 1, Column: 10"), "{error}");
}

#[test]
fn statements_piped_in_run_without_a_prompt() {
    let run = barks_with_input(
        &["sql", "--master", "local[1]", "--format", "csv"],
        "SELECT 1 AS x;\nSELECT 'two\nlines;' AS y;\n",
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "x\n1\ny\n\"two\nlines;\"\n");
    assert_eq!(time_lines(&run.stderr), [Some(1), Some(1)]);
    assert!(!run.stderr.contains("barks-sql>"), "{}", run.stderr);
}

#[test]
fn a_failed_statement_piped_in_stops_the_run() {
    let run = barks_with_input(
        &["sql", "--master", "local[1]", "--format", "csv"],
        "SELECT 1 AS x;\nSELECT no_such_column;\nSELECT 3 AS z;\n",
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "x\n1\n");
    assert!(
        run.stderr.contains("Error: ") && run.stderr.contains("no_such_column"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_query_runs_on_a_local_cluster() {
    let run = barks(&[
        "sql",
        "--master",
        "local-cluster[2]",
        "--shuffle-partitions",
        "3",
        "--format",
        "tsv",
        "-e",
        "SELECT k, count(*) AS n, sum(v) AS total \
         FROM (VALUES ('a', 1), ('b', 2), ('a', 3), ('c', 4), ('b', 5), ('a', 6)) AS t(k, v) \
         GROUP BY k ORDER BY k",
    ]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "a\t3\t10\nb\t2\t7\nc\t1\t4\n");
    assert_eq!(time_lines(&run.stderr), [Some(3)], "stderr: {}", run.stderr);
}

#[test]
fn help_names_the_subcommands_and_their_flags() {
    let run = barks(&["--help"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("sql") && run.stdout.contains("worker"));
    let run = barks(&["sql", "--help"]);
    assert_eq!(run.code, Some(0));
    for flag in ["--master", "-e", "-f", "--format", "--shuffle-partitions"] {
        assert!(run.stdout.contains(flag), "no {flag} in {}", run.stdout);
    }
    let run = barks(&["worker", "--help"]);
    assert_eq!(run.code, Some(0));
    for flag in ["--join", "--slots", "--secret"] {
        assert!(run.stdout.contains(flag), "no {flag} in {}", run.stdout);
    }
    // A usage error is clap's: status 2.
    let run = barks(&["worker"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--join"), "{}", run.stderr);
}

/// The TPC-H data (SF 0.1) and DuckDB's answers, from `scripts/tpch/setup.sh`.
fn tpch_dir() -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .args([&format!("{root}/scripts/tpch/setup.sh"), "--scale", "0.1"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .expect("setup.sh runs");
    assert!(out.status.success(), "scripts/tpch/setup.sh failed");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    std::path::PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("setup.sh prints the directory"),
    )
}

/// Whether a `tsv` field matches DuckDB's JSON value: numbers within 1e-6
/// (relative, or absolute below 1; engines round averages to different
/// scales), strings exactly, NULL as an empty field.
fn same_value(got: &str, expected: &serde_json::Value) -> bool {
    match expected {
        serde_json::Value::Null => got.is_empty(),
        serde_json::Value::Number(n) => {
            let (e, g) = (n.as_f64().unwrap_or(f64::NAN), got.parse::<f64>());
            g.is_ok_and(|g| (g - e).abs() <= 1e-6 * e.abs().max(g.abs()).max(1.0))
        }
        serde_json::Value::String(s) => got == s,
        serde_json::Value::Bool(b) => got == if *b { "true" } else { "false" },
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => false,
    }
}

#[test]
fn the_22_tpch_queries_through_barks_sql_f_match_duckdb() {
    let dir = tpch_dir();
    let tables = [
        "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
    ];
    let mut failures = Vec::new();
    for n in 1..=22 {
        let mut script = String::new();
        for t in tables {
            script.push_str(&format!(
                "CREATE EXTERNAL TABLE {t} STORED AS PARQUET LOCATION '{}';\n",
                dir.join(format!("{t}.parquet")).display()
            ));
        }
        let query = std::fs::read_to_string(format!(
            "{}/barks-sql/tests/tpch/queries/q{n}.sql",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("query file");
        script.push_str(&query);
        let file =
            std::env::temp_dir().join(format!("barks-cli-tpch-q{n}-{}.sql", std::process::id()));
        std::fs::write(&file, script).expect("write the script");
        let run = barks(&[
            "sql",
            "--master",
            "local[2]",
            "--format",
            "tsv",
            "-f",
            file.to_str().unwrap(),
        ]);
        let _ = std::fs::remove_file(&file);
        if run.code != Some(0) {
            failures.push(format!("q{n}: exit {:?}: {}", run.code, run.stderr));
            continue;
        }
        let answer: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("answers/q{n}.json"))).expect("answer"),
        )
        .expect("answer JSON");
        let expected = answer["rows"].as_array().expect("rows");
        let got: Vec<Vec<&str>> = run
            .stdout
            .lines()
            .map(|l| l.split('\t').collect())
            .collect();
        if got.len() != expected.len() {
            failures.push(format!(
                "q{n}: {} rows, expected {}",
                got.len(),
                expected.len()
            ));
            continue;
        }
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            let e = e.as_array().expect("row");
            let differs = g.len() != e.len() || g.iter().zip(e).any(|(g, e)| !same_value(g, e));
            if differs {
                failures.push(format!("q{n} row {i}: got {g:?}, expected {e:?}"));
                break;
            }
        }
        // One `Time taken` line per statement: 8 tables and the query.
        let times = time_lines(&run.stderr);
        assert_eq!(times.len(), 9, "q{n}: {}", run.stderr);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
