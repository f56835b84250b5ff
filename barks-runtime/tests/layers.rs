//! The layering of barks-runtime's and barks-io's folders, checked on their
//! sources: a folder (or top-level file) may import only from folders of a
//! lower layer, never from its own layer or above, so there is no import
//! cycle between them. `dag/` (plan descriptors and the scheduler) imports
//! nothing from the rest of the crate and no crate but serde: it could be a
//! crate of its own.
//!
//! Only code counts: comments and `#[cfg(test)]` modules (which sit at the
//! end of a file) may name anything. A path through the crate root's
//! re-exports (`crate::range`) is refused, since it hides which folder it
//! comes from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// barks-runtime's units by layer, lowest first.
const RUNTIME: &[&[&str]] = &[
    &["dag", "error", "data"],
    &["records", "agg", "counters", "spill"],
    &["plan"],
    &["memory"],
    &["shuffle"],
    &["ops"],
    &["job", "exec"],
    &["cluster"],
    &["context"],
    &["lib"],
];

/// barks-io's units by layer, lowest first.
const IO: &[&[&str]] = &[
    &["storage", "async_rt", "redact", "bad_records"],
    &["s3", "compress", "split", "sql"],
    &["backend", "mongodb", "mssql", "postgres"],
    &["commit", "line_input"],
    &["file_sink", "line_source"],
    &["text_sink", "text_source", "csv", "json", "parquet"],
    &["batch_files"],
    &["lib"],
];

/// Units that import nothing from their crate, and the only crates they use.
type Leaves = &'static [(&'static str, &'static [&'static str])];

const RUNTIME_LEAVES: Leaves = &[("dag", &["std", "serde", "super", "self", "crate"])];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The unit a file belongs to: its top folder, or its name without `.rs`.
fn unit_of(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    let name = first.as_os_str().to_str().unwrap();
    name.strip_suffix(".rs").unwrap_or(name).to_string()
}

/// The code lines of a file: no comments, nothing from `#[cfg(test)]` on.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

/// Every `PREFIX::NAME` in a line (`crate::NAME`, or `crate::cluster::NAME`
/// inside `cluster/`).
fn paths_after(line: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '{')
            .collect();
        names.push(name);
    }
    names
}

/// Checks one crate's sources against its layers; returns what is wrong.
fn violations(src: &Path, layers: &[&[&str]], leaves: Leaves) -> Vec<String> {
    violations_under(src, "crate::", layers, leaves)
}

/// Checks the sources under `src`, a folder whose items are named
/// `PREFIX::NAME` (and `super::NAME` in the files directly in it, unless it
/// is the crate root), against its layers.
fn violations_under(src: &Path, prefix: &str, layers: &[&[&str]], leaves: Leaves) -> Vec<String> {
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, units)| units.iter().map(move |u| (*u, i)))
        .collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in files {
        let unit = unit_of(src, &file);
        let shown = file.strip_prefix(src).unwrap().display().to_string();
        let Some(&own) = rank.get(unit.as_str()) else {
            wrong.push(format!(
                "{shown}: `{unit}` is in no layer; add it to tests/layers.rs"
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let leaf = leaves.iter().find(|(u, _)| *u == unit);
        for (line_no, line) in code_lines(&text) {
            let mut names = paths_after(line, prefix);
            let directly_in_src = file.parent() == Some(src);
            if prefix != "crate::" && directly_in_src {
                names.extend(paths_after(line, "super::"));
            }
            for name in names {
                if name.starts_with('{') {
                    wrong.push(format!(
                        "{shown}:{line_no}: `crate::{{..}}`: import each folder's items from the folder itself"
                    ));
                    continue;
                }
                if name == unit {
                    continue;
                }
                match rank.get(name.as_str()) {
                    None => wrong.push(format!(
                        "{shown}:{line_no}: `{prefix}{name}` goes through the crate root; import it from its folder"
                    )),
                    Some(_) if leaf.is_some() => wrong.push(format!(
                        "{shown}:{line_no}: `{unit}` is a leaf and must not import `{prefix}{name}`"
                    )),
                    Some(&theirs) if theirs >= own => wrong.push(format!(
                        "{shown}:{line_no}: `{unit}` (layer {own}) imports `{prefix}{name}` (layer {theirs}); a folder may import only from lower layers"
                    )),
                    Some(_) => {}
                }
            }
            if let Some((_, allowed)) = leaf
                && let Some(path) = line.trim_start().strip_prefix("use ")
            {
                let root = path.split("::").next().unwrap_or_default();
                if !allowed.contains(&root) {
                    wrong.push(format!(
                        "{shown}:{line_no}: `{unit}` is a leaf and may use only {allowed:?}, not `{root}`"
                    ));
                }
            }
        }
    }
    wrong
}

fn src_of(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(krate)
        .join("src")
}

#[test]
fn runtime_folders_import_only_lower_layers() {
    let wrong = violations(&src_of("barks-runtime"), RUNTIME, RUNTIME_LEAVES);
    assert!(
        wrong.is_empty(),
        "layering violations:\n{}",
        wrong.join("\n")
    );
}

/// `cluster/`'s own parts, lowest first: the transport knows nothing of
/// workers or drivers; the driver is on top.
const CLUSTER: &[&[&str]] = &[
    &["net", "fingerprint", "logging"],
    &["protocol"],
    &["fetch", "fuzzing"],
    &["worker"],
    &["entry"],
    &["launch"],
    &["driver"],
    &["mod"],
];

#[test]
fn cluster_parts_import_only_lower_layers() {
    let src = src_of("barks-runtime").join("cluster");
    let wrong = violations_under(&src, "crate::cluster::", CLUSTER, &[]);
    assert!(
        wrong.is_empty(),
        "layering violations:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn io_folders_import_only_lower_layers() {
    let wrong = violations(&src_of("barks-io"), IO, &[]);
    assert!(
        wrong.is_empty(),
        "layering violations:\n{}",
        wrong.join("\n")
    );
}

/// The checker itself finds what it must: an upward import, a cycle inside
/// one layer, a leaf's import, a path through the root; and ignores comments
/// and tests.
#[test]
fn the_check_catches_violations() {
    let dir = std::env::temp_dir().join(format!("barks-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("low")).unwrap();
    std::fs::write(
        dir.join("low/mod.rs"),
        "use crate::high::X;\n// crate::high in a comment\n",
    )
    .unwrap();
    std::fs::write(dir.join("leaf.rs"), "use tokio::x;\nuse crate::low::Y;\n").unwrap();
    std::fs::write(
        dir.join("high.rs"),
        "use crate::low::Y;\nuse crate::peer::Z;\nuse crate::reexported;\n#[cfg(test)]\nuse crate::top::W;\n",
    )
    .unwrap();
    std::fs::write(dir.join("peer.rs"), "").unwrap();
    std::fs::write(dir.join("top.rs"), "use crate::{low, high};\n").unwrap();
    const LAYERS: &[&[&str]] = &[&["leaf", "low"], &["high", "peer"], &["top"]];
    let wrong = violations(&dir, LAYERS, &[("leaf", &["std", "crate"])]);
    let _ = std::fs::remove_dir_all(&dir);
    let expect = [
        "high.rs:2: `high` (layer 1) imports `crate::peer` (layer 1)",
        "high.rs:3: `crate::reexported` goes through the crate root",
        "leaf.rs:1: `leaf` is a leaf and may use only [\"std\", \"crate\"], not `tokio`",
        "leaf.rs:2: `leaf` is a leaf and must not import `crate::low`",
        "low/mod.rs:1: `low` (layer 0) imports `crate::high` (layer 1)",
        "top.rs:1: `crate::{..}`",
    ];
    for e in expect {
        assert!(
            wrong.iter().any(|w| w.starts_with(e)),
            "missing {e:?} in {wrong:#?}"
        );
    }
    assert_eq!(wrong.len(), expect.len(), "{wrong:#?}");
}
