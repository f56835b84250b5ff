//! Every binary answers `--help` (and `-h`): a usage text on stdout, exit
//! status 0, naming every flag the binary reads. The flags are read off the
//! binary's source (`args.get("x")`, `get_or("x", ..)`, `has("x")`,
//! `master()`; the worker's `"--x" =>` arms), so a flag added without help
//! fails here.

use std::process::Command;

/// The example binaries' sources.
const BIN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin");
/// Where the worker's parser lives.
const WORKER_ENTRY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../barks-runtime/src/cluster/entry.rs"
);

/// The flags an example binary's source reads through `examples::cli::Args`.
fn flags_read_by(source: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for call in [".get(\"", ".get_or(\"", ".has(\""] {
        for (at, _) in source.match_indices(call) {
            let rest = &source[at + call.len()..];
            let name = &rest[..rest.find('"').unwrap()];
            flags.push(format!("--{name}"));
        }
    }
    if source.contains(".master()") {
        flags.push("--master".into());
    }
    flags.sort();
    flags.dedup();
    flags
}

/// The flags of the worker's match arms (`"--join" => ...`).
fn worker_flags(source: &str) -> Vec<String> {
    source
        .match_indices("\"--")
        .filter_map(|(at, _)| {
            let rest = &source[at + 1..];
            let end = rest.find('"')?;
            rest[end + 1..]
                .trim_start()
                .starts_with("=>")
                .then(|| rest[..end].to_string())
        })
        .collect()
}

/// Runs `exe` with `arg`, checks it succeeded with a usage text on stdout,
/// and returns that text.
fn help_of(name: &str, exe: &str, arg: &str) -> String {
    let out = Command::new(exe).arg(arg).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} {arg}: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    assert!(
        stdout.starts_with(&format!("usage: {name}")),
        "{name} {arg}: {stdout}"
    );
    assert!(stdout.contains("--help"), "{name} {arg}: {stdout}");
    stdout
}

/// `name` answers `--help` and `-h` alike, its flags table naming every
/// flag in `flags`.
fn check(name: &str, exe: &str, flags: &[String]) {
    let help = help_of(name, exe, "--help");
    assert_eq!(help, help_of(name, exe, "-h"), "{name}");
    // Help wins also where a flag's value would be.
    let late = Command::new(exe)
        .args(["--input", "--help"])
        .output()
        .unwrap();
    assert!(
        late.status.success(),
        "{name} --input --help: {}",
        late.status
    );
    // The flags table: from `flags:` to `environment:`, if any.
    let table = &help[help
        .find("\nflags:\n")
        .unwrap_or_else(|| panic!("{name} --help has no flags table:\n{help}"))..];
    let table = &table[..table.find("\nenvironment:\n").unwrap_or(table.len())];
    for flag in flags {
        assert!(
            names(table, flag),
            "{name} --help does not name {flag}:\n{help}"
        );
    }
}

/// Whether `text` names `flag` as a whole word (`--out` is not `--output`).
fn names(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(at, _)| {
        !text[at + flag.len()..]
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

fn check_example(name: &str, exe: &str) {
    let source = std::fs::read_to_string(format!("{BIN_DIR}/{name}.rs")).unwrap();
    let flags = flags_read_by(&source);
    check(name, exe, &flags);
}

#[test]
fn the_worker_answers_help() {
    let flags = worker_flags(&std::fs::read_to_string(WORKER_ENTRY).unwrap());
    assert!(flags.len() >= 7, "the worker's flags: {flags:?}");
    check("worker", env!("CARGO_BIN_EXE_worker"), &flags);
}

#[test]
fn the_job_binaries_answer_help() {
    for (name, exe) in [
        ("word_count", env!("CARGO_BIN_EXE_word_count")),
        ("pagerank", env!("CARGO_BIN_EXE_pagerank")),
        ("kmeans", env!("CARGO_BIN_EXE_kmeans")),
    ] {
        check_example(name, exe);
    }
}

#[test]
fn the_benchmark_binaries_answer_help() {
    for (name, exe) in [
        ("barks-bench", env!("CARGO_BIN_EXE_barks-bench")),
        ("barks-gen", env!("CARGO_BIN_EXE_barks-gen")),
        ("cluster-bench", env!("CARGO_BIN_EXE_cluster-bench")),
    ] {
        check_example(name, exe);
    }
}

#[cfg(feature = "parquet")]
#[test]
fn the_parquet_binaries_answer_help() {
    for (name, exe) in [
        ("csv_to_parquet", env!("CARGO_BIN_EXE_csv_to_parquet")),
        ("parquet_bench", env!("CARGO_BIN_EXE_parquet_bench")),
    ] {
        check_example(name, exe);
    }
}

#[cfg(feature = "etl")]
#[test]
fn the_etl_binaries_answer_help() {
    for (name, exe) in [
        ("basic_etl", env!("CARGO_BIN_EXE_basic_etl")),
        ("mongodb_to_s3", env!("CARGO_BIN_EXE_mongodb_to_s3")),
    ] {
        check_example(name, exe);
    }
}

#[cfg(feature = "sql")]
#[test]
fn the_sql_binaries_answer_help() {
    check_example("sql_queries", env!("CARGO_BIN_EXE_sql_queries"));
}

/// Every binary of `src/bin` is covered above (a new one must be added).
#[test]
fn every_binary_is_checked() {
    let mut names: Vec<String> = std::fs::read_dir(BIN_DIR)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "barks-bench",
            "barks-gen",
            "basic_etl",
            "cluster-bench",
            "csv_to_parquet",
            "kmeans",
            "mongodb_to_s3",
            "pagerank",
            "parquet_bench",
            "sql_queries",
            "word_count",
            "worker",
        ]
    );
}

#[test]
fn flags_are_read_off_the_source() {
    let source =
        r#"let a = args.get("input"); args.get_or("top", 10)?; args.has("setup"); args.master()"#;
    assert_eq!(
        flags_read_by(source),
        ["--input", "--master", "--setup", "--top"]
    );
    let worker = r#""--join" => join = Some(value()?), "--slots" => {"#;
    assert_eq!(worker_flags(worker), ["--join", "--slots"]);
    assert!(names("  --out DIR  where", "--out"));
    assert!(!names("  --output DIR  where", "--out"));
}
