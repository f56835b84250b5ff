//! Every kind of bad input a user can give, each a clear error that names
//! it and loses nothing already written.

use barks_sql::Session;

fn session() -> Session {
    Session::new("local[2]").unwrap()
}

fn error_of<T>(result: barks_runtime::Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_syntax_error_names_its_line_and_column() {
    let err = error_of(session().sql("SELECT 1 AS a\nFROM (SELECT 2) AS t WHERE )"));
    assert!(err.contains("Line: 2"), "{err}");
    assert!(err.contains("Column:"), "{err}");
}

#[test]
fn an_unknown_table_or_column_names_the_nearest_one() {
    let s = session();
    s.sql("CREATE VIEW people AS SELECT * FROM (VALUES ('ann', 31)) AS t(name, age)")
        .unwrap();
    let err = error_of(s.sql("SELECT nme FROM people"));
    assert!(err.contains("nme") && err.contains("name"), "{err}");
    let err = error_of(s.sql("SELECT * FROM peple"));
    assert!(err.contains("peple"), "{err}");
}

#[test]
fn a_type_error_is_reported_before_anything_runs() {
    let err = error_of(session().sql("SELECT DATE '2024-01-01' * 2"));
    assert!(err.to_lowercase().contains("date"), "{err}");
}

#[test]
fn a_missing_file_names_the_path() {
    let err = error_of(session().read().parquet("/no/such/dir/t.parquet"));
    assert!(err.contains("/no/such/dir/t.parquet"), "{err}");
    let err = error_of(
        session()
            .sql("CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '/no/such/dir/t.parquet'"),
    );
    assert!(err.contains("/no/such/dir/t.parquet"), "{err}");
}

#[test]
fn a_corrupt_parquet_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.parquet");
    std::fs::write(&path, b"PAR1 this is not really parquet PAR1").unwrap();
    let err = error_of(
        session()
            .read()
            .parquet(path.to_str().unwrap())
            .and_then(|df| df.collect()),
    );
    assert!(err.contains(path.to_str().unwrap()), "{err}");
}

/// 50 good rows of `name,age` and a last one whose age is no number.
pub(crate) fn people_csv_with_a_bad_row() -> String {
    let mut text = String::from("name,age\n");
    for i in 0..50 {
        text.push_str(&format!("p{i},{i}\n"));
    }
    text.push_str("zed,not-a-number\n");
    text
}

#[test]
fn a_csv_row_that_does_not_match_the_schema_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, people_csv_with_a_bad_row()).unwrap();
    let options =
        || barks_sql::datafusion::prelude::CsvReadOptions::new().schema_infer_max_records(10);
    let err = error_of(
        session()
            .read()
            .csv(path.to_str().unwrap(), options())
            .and_then(|df| df.collect()),
    );
    // The value, the line DataFusion gives, and the file.
    assert!(err.contains("not-a-number"), "{err}");
    assert!(err.contains("at line"), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");

    // Of a directory's files, the one read is not known: the directory is named.
    let good = dir.path().join("more.csv");
    std::fs::write(&good, "name,age\nq,1\n").unwrap();
    let err = error_of(
        session()
            .read()
            .csv(dir.path().to_str().unwrap(), options())
            .and_then(|df| df.collect()),
    );
    assert!(err.contains("not-a-number"), "{err}");
    let named = format!("2 files in {}/", dir.path().to_str().unwrap());
    assert!(err.contains(&named), "{err}");
}

#[test]
fn a_json_line_that_does_not_match_the_schema_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.json");
    // More good lines than schema inference reads (1000).
    let mut text = String::new();
    for i in 0..1100 {
        text.push_str(&format!("{{\"name\": \"p{i}\", \"age\": {i}}}\n"));
    }
    text.push_str("{\"name\": \"zed\", \"age\": \"not-a-number\"}\n");
    std::fs::write(&path, text).unwrap();
    let err = error_of(
        session()
            .read()
            .json(path.to_str().unwrap())
            .and_then(|df| df.collect()),
    );
    assert!(err.contains("not-a-number"), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");
}

#[test]
fn writing_into_a_non_empty_directory_in_error_mode_keeps_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("keep.txt");
    std::fs::write(&keep, "precious").unwrap();
    let s = session();
    let df = s.sql("SELECT 1 AS one").unwrap();
    let err = error_of(df.write().csv(dir.path().to_str().unwrap()));
    assert!(err.contains(dir.path().to_str().unwrap()), "{err}");
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    // `ignore` leaves it too; `append` adds beside it.
    df.write()
        .mode("ignore")
        .csv(dir.path().to_str().unwrap())
        .unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    df.write()
        .mode("append")
        .csv(dir.path().to_str().unwrap())
        .unwrap();
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    assert!(dir.path().join("_SUCCESS").exists());
    let err = error_of(
        df.write()
            .mode("sometimes")
            .csv(dir.path().to_str().unwrap()),
    );
    assert!(err.contains("sometimes"), "{err}");
}
