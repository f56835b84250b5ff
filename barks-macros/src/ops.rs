//! The operator table: every name a pipeline may use, and what kind of thing
//! it is. Validation and expansion both read it.

/// What a name in a chain is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Dataset to dataset.
    Transform,
    /// Dataset to dataset, taking another stage as its first argument.
    Binary,
    /// Ends the pipeline with a result.
    Action,
}

/// Sources and their accepted calls (one per argument count).
pub const SOURCES: &[(&str, &[&str])] = &[
    (
        "parallelize",
        &["parallelize(data)", "parallelize(data, partitions)"],
    ),
    (
        "range",
        &[
            "range(end)",
            "range(start, end)",
            "range(start, end, step)",
            "range(start, end, step, partitions)",
        ],
    ),
    (
        "text_file",
        &["text_file(path)", "text_file(path, min_partitions)"],
    ),
    ("read_postgres", &["read_postgres(options)"]),
    ("read_sql_server", &["read_sql_server(options)"]),
    ("read_mongodb", &["read_mongodb(options)"]),
    ("csv_file", &["csv_file(path, options)"]),
    (
        "csv_file_permissive",
        &["csv_file_permissive(path, options)"],
    ),
    ("json_file", &["json_file(path, options)"]),
    (
        "json_file_permissive",
        &["json_file_permissive(path, options)"],
    ),
    ("parquet_file", &["parquet_file(path, options)"]),
    ("parquet_rows", &["parquet_rows(path, options)"]),
    ("parquet_batches", &["parquet_batches(path, options)"]),
    ("persisted", &["persisted(handle)"]),
    ("from_source", &["from_source(source)"]),
    // Any number of arguments: `validate` checks its own (see `sql.rs`).
    ("sql", &["sql(query, table = stage, ...)"]),
];

const TRANSFORMS: &[&str] = &[
    "map",
    "filter",
    "flat_map",
    "filter_map",
    "map_partitions",
    "map_partitions_with_index",
    "key_by",
    "keys",
    "values",
    "map_values",
    "flat_map_values",
    "sample",
    "coalesce",
    "zip_with_index",
    "glom",
    "cache",
    "distinct",
    "reduce_by_key",
    "flat_map_reduce_by_key",
    "fold_by_key",
    "aggregate_by_key",
    "combine_by_key",
    "group_by_key",
    "sort_by_key",
    "sort_by",
    "repartition",
    "partition_by",
];

const BINARY: &[&str] = &[
    "union",
    "cartesian",
    "join",
    "left_outer_join",
    "right_outer_join",
    "full_outer_join",
    "cogroup",
    "subtract_by_key",
    "intersection",
    "subtract",
];

const ACTIONS: &[&str] = &[
    "collect",
    "count",
    "first",
    "take",
    "take_ordered",
    "top",
    "reduce",
    "fold",
    "aggregate",
    "count_by_value",
    "count_by_key",
    "collect_as_map",
    "for_each",
    "for_each_partition",
    "save_as_text_file",
    "save_as_csv",
    "save_as_json",
    "save_as_json_with",
    "save_as_parquet",
    "save_batches_as_parquet",
    "save_to_postgres",
    "save_to_sql_server",
    "save_to_mongodb",
    "persist",
    "write",
    "action",
];

/// The kind of a method name, if barks knows it.
pub fn method_kind(name: &str) -> Option<Kind> {
    if TRANSFORMS.contains(&name) {
        Some(Kind::Transform)
    } else if BINARY.contains(&name) {
        Some(Kind::Binary)
    } else if ACTIONS.contains(&name) {
        Some(Kind::Action)
    } else {
        None
    }
}

/// The accepted calls of a source, e.g. `["text_file(path)", ...]`.
pub fn source_calls(name: &str) -> Option<&'static [&'static str]> {
    SOURCES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// The argument count of a call as `source_calls` spells it.
pub fn arity(call: &str) -> usize {
    let args = call
        .split_once('(')
        .map_or("", |(_, a)| a.trim_end_matches(')'));
    if args.trim().is_empty() {
        0
    } else {
        args.split(',').count()
    }
}

/// Every method name, for suggestions.
pub fn all_methods() -> impl Iterator<Item = &'static str> {
    TRANSFORMS.iter().chain(BINARY).chain(ACTIONS).copied()
}

/// Every source name, for suggestions.
pub fn all_sources() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|(n, _)| *n)
}
