//! Shuffle map outputs spilled to the workers' local disks, on
//! `local-cluster[2,1]` (worker processes of this test binary, over QUIC).
//!
//! With a memory budget of 16 KiB every map output with a long value goes to a spill
//! file; the shuffle-heavy operators (`reduce_by_key`, `group_by_key`,
//! `join`, `sort_by_key`) must still give what `local[2]` and a sequential
//! model give. The spill files are observed from inside a job (a reduce task
//! lists the spill directory while its run's outputs exist) and must be gone
//! when the run ends and when the workers stop. A spill file truncated in the
//! middle of a job is a fetch failure: the map output is recomputed and the
//! job's result is unchanged. A worker killed with SIGKILL leaves its spill
//! directory; the next process that spills in the same place removes it.
//!
//! The spill settings are given in code (`ContextBuilder::worker_memory`);
//! the context hands them to the worker processes it starts.

#[allow(dead_code)] // The operator tests' strategies are not used here.
mod common;

use barks::prelude::*;
use barks::runtime::memory::MemoryOptions;
use common::files_under;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---- harness ---------------------------------------------------------------

/// A `local-cluster[2,1]` whose workers have a memory budget of `budget`
/// and spill into `dir`.
fn cluster(budget: u64, dir: &Path) -> barks::runtime::Result<Context> {
    Context::builder("local-cluster[2,1]")
        .worker_memory(MemoryOptions {
            memory: budget,
            spill_dir: dir.to_path_buf(),
        })
        .build()
}

fn local() -> Context {
    Context::new("local[2]").unwrap()
}

/// The spill files under `dir`.
fn spill_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "data"))
        .collect()
}

/// Waits (bounded) until `done()` holds.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Records with unicode keys, empty and large values, and one hot key.
fn records(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let key = if i % 3 == 0 {
                "hot ✓".to_string()
            } else {
                format!("kéy-{}", i % 97)
            };
            let value = match i % 5 {
                0 => String::new(),
                1 => "ü".repeat(3000),
                _ => format!("v{i}"),
            };
            (key, value)
        })
        .collect()
}

// ---- jobs --------------------------------------------------------------------

/// Tagged lines of several shuffles over `records`, in `p` input partitions;
/// `n` is the partition count of one explicit hash partitioning.
#[barks::job]
fn shuffled(records: Vec<(String, String)>, p: usize, n: usize) -> Vec<String> {
    pipeline! {
        let src = parallelize(records, p);
        let lengths = src.map_values(|v| v.len());
        let reduced = lengths.reduce_by_key(|a, b| a + b).map(|r| format!("reduce {r:?}"));
        // (The hot key's lengths, not its values: they fit the budget as
        // one group; the values would not, a clear error.)
        let grouped = lengths
            .group_by_key()
            .map(|(k, vs)| { let mut vs = vs; vs.sort(); format!("group {:?}", (k, vs)) });
        let counts = src.map_values(|_| 1u64).reduce_by_key(|a, b| a + b);
        let joined = lengths.join(counts).map(|r| format!("join {r:?}"));
        let spread = src.partition_by(n).map_partitions_with_index(|i, it| it.map(move |(k, _)| format!("partition {k} {i}")));
        reduced.union(grouped).union(joined).union(spread).collect()
    }
}

fn shuffled_model(records: &[(String, String)], n: usize) -> Vec<String> {
    let mut groups: BTreeMap<&String, Vec<String>> = BTreeMap::new();
    for (k, v) in records {
        groups.entry(k).or_default().push(v.clone());
    }
    let mut out = Vec::new();
    for (k, vs) in &groups {
        let length: usize = vs.iter().map(String::len).sum();
        out.push(format!("reduce {:?}", ((*k).clone(), length)));
        let lengths = sorted(vs.iter().map(String::len).collect::<Vec<_>>());
        out.push(format!("group {:?}", ((*k).clone(), lengths)));
        for v in vs {
            let joined = ((*k).clone(), (v.len(), vs.len() as u64));
            out.push(format!("join {joined:?}"));
        }
    }
    for (k, _) in records {
        let i = barks::runtime::hash_partition(k, n);
        out.push(format!("partition {k} {i}"));
    }
    sorted(out)
}

/// `records` sorted by key, descending.
#[barks::job]
fn sorted_by_key(records: Vec<(String, String)>, p: usize) -> Vec<(String, String)> {
    pipeline! {
        parallelize(records, p).sort_by_key(false).collect()
    }
}

/// How many spill files each reduce task of a shuffle of `records` into
/// `p` partitions sees under `dir` (while its run's map outputs exist):
/// all map outputs, since a reducer holds nothing of its own.
#[barks::job]
fn spill_files_seen(records: Vec<(String, String)>, p: usize, dir: String) -> Vec<usize> {
    pipeline! {
        parallelize(records, p)
            .partition_by(p)
            .map_partitions(move |it| {
                let _ = it.count();
                std::iter::once(spill_files(Path::new(&dir)).len())
            })
            .collect()
    }
}

/// Per-key value lengths over 8 reduce partitions, as lines. The first
/// record any reduce task sees truncates one spill file under `dir` to
/// nothing (once: `marker` records which), so the reduce tasks that run
/// after it fail to read that map output. Each task of the final stage adds
/// a line naming the spill files it sees under `listed` (the same `dir`).
#[barks::job]
fn lengths_with_a_truncated_spill(
    records: Vec<(String, String)>,
    p: usize,
    dir: String,
    marker: String,
    listed: String,
) -> Vec<String> {
    pipeline! {
        parallelize(records, p)
            .partition_by(8)
            .map_values(|v| v.len())
            .map(move |r| {
                truncate_one_spill_file_once(Path::new(&dir), Path::new(&marker));
                r
            })
            .reduce_by_key(|a, b| a + b)
            .map_partitions(move |it| {
                let mut lines: Vec<String> = it.map(|r| format!("{r:?}")).collect();
                let names: Vec<String> = spill_files(Path::new(&listed))
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect();
                lines.push(format!("files {}", names.join(" ")));
                lines.into_iter()
            })
            .collect()
    }
}

fn truncate_one_spill_file_once(dir: &Path, marker: &Path) {
    let Ok(mut first) = std::fs::File::create_new(marker) else {
        return;
    };
    let victim = spill_files(dir).into_iter().next().expect("a spill file");
    std::fs::File::options()
        .write(true)
        .open(&victim)
        .and_then(|f| f.set_len(0))
        .expect("truncating a spill file");
    use std::io::Write;
    write!(first, "{}", victim.display()).expect("writing the marker");
}

/// Value lengths per key, after each map partition naps `nap_ms` (slow
/// enough to kill a worker while the job runs) and the records, long
/// values and all, are shuffled.
#[barks::job]
fn slow_lengths(records: Vec<(String, String)>, p: usize, nap_ms: u64) -> Vec<(String, usize)> {
    pipeline! {
        parallelize(records, p)
            .map_partitions(move |it| { std::thread::sleep(Duration::from_millis(nap_ms)); it })
            .partition_by(4)
            .map_values(|v| v.len())
            .reduce_by_key(|a, b| a + b)
            .collect()
    }
}

fn lengths_model(records: &[(String, String)]) -> Vec<(String, usize)> {
    let mut lengths: BTreeMap<String, usize> = BTreeMap::new();
    for (k, v) in records {
        *lengths.entry(k.clone()).or_default() += v.len();
    }
    lengths.into_iter().collect()
}

// ---- tests -------------------------------------------------------------------

/// A budget that every map output of `records` with a long value is over.
const TIGHT: u64 = 16 << 10;

#[test]
fn shuffles_that_spill_agree_with_local_mode_and_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let spilling = cluster(TIGHT, dir.path()).unwrap();
    let local = local();
    for (n, p) in [(40, 1), (400, 3), (0, 2), (7, 5)] {
        let input = records(n);
        let expected = shuffled_model(&input, 6);
        for (master, ctx) in [("local[2]", &local), ("local-cluster[2,1]", &spilling)] {
            let got = sorted(ctx.run_job(shuffled(input.clone(), p, 6)).unwrap());
            assert_eq!(got, expected, "{master}, {n} records in {p} partitions");

            let got = ctx.run_job(sorted_by_key(input.clone(), p)).unwrap();
            let keys: Vec<&String> = got.iter().map(|(k, _)| k).collect();
            let mut want: Vec<&String> = input.iter().map(|(k, _)| k).collect();
            want.sort_by(|a, b| b.cmp(a));
            assert_eq!(keys, want, "{master}: keys in descending order");
            assert_eq!(sorted(got), sorted(input.clone()), "{master}: same records");
        }
        // A run's spill files go when it ends.
        eventually("the run's spill files are removed", || {
            spill_files(dir.path()).is_empty()
        });
    }
    drop(spilling);
    eventually("the workers' spill directories are removed", || {
        files_under(dir.path()).is_empty() && std::fs::read_dir(dir.path()).unwrap().count() == 0
    });
}

#[test]
fn outputs_stay_in_memory_within_the_budget_and_spill_beyond_it() {
    let dir = tempfile::tempdir().unwrap();
    let arg = dir.path().to_str().unwrap().to_string();
    let input = records(300);
    let p = 3;
    {
        let roomy = cluster(64 << 20, dir.path()).unwrap();
        let seen = roomy
            .run_job(spill_files_seen(input.clone(), p, arg.clone()))
            .unwrap();
        assert_eq!(seen, vec![0; p], "nothing spills within the budget");
    }
    let tight = cluster(TIGHT, dir.path()).unwrap();
    let seen = tight
        .run_job(spill_files_seen(input.clone(), p, arg.clone()))
        .unwrap();
    assert_eq!(seen, vec![p; p], "every map output spilled, one file each");
    eventually("the run's spill files are removed", || {
        spill_files(dir.path()).is_empty()
    });
    let seen = tight.run_job(spill_files_seen(Vec::new(), 2, arg)).unwrap();
    assert_eq!(seen, vec![0, 0], "empty outputs fit");
    drop(tight);
    eventually("the workers' spill directories are removed", || {
        std::fs::read_dir(dir.path()).unwrap().count() == 0
    });
}

#[test]
fn a_truncated_spill_file_is_recomputed_and_the_result_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let marker = tempfile::tempdir().unwrap();
    let marker = marker.path().join("truncated");
    let input = records(500);
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for (k, v) in &input {
        *expected.entry(k.clone()).or_default() += v.len();
    }
    let ctx = cluster(TIGHT, dir.path()).unwrap();
    let got = ctx
        .run_job(lengths_with_a_truncated_spill(
            input,
            4,
            dir.path().to_str().unwrap().to_string(),
            marker.to_str().unwrap().to_string(),
            dir.path().to_str().unwrap().to_string(),
        ))
        .unwrap();
    let victim = std::fs::read_to_string(&marker).expect("a spill file was truncated");
    // `<worker dir>/run-R/shuffle-S-map-M-N.data`: the recomputed output
    // of the same map is another file (the truncated copy stays until the
    // run ends if the output was recomputed on the other worker).
    let name = Path::new(&victim).file_name().unwrap().to_str().unwrap();
    let map = &name[..name.rfind('-').unwrap() + 1];
    let (files, lines): (Vec<String>, Vec<String>) =
        got.into_iter().partition(|l| l.starts_with("files "));
    let seen: Vec<&str> = files.iter().flat_map(|l| l.split(' ').skip(1)).collect();
    assert!(
        seen.iter().any(|f| *f != victim
            && Path::new(f)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(map)),
        "no recomputed {map}*: {seen:?}"
    );
    let expected: Vec<String> = expected.into_iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(sorted(lines), sorted(expected));
}

#[test]
fn an_unusable_spill_directory_fails_the_job_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let spill = file.join("spill");
    // Workers start (they make their spill directory on the first spill)...
    let ctx = cluster(TIGHT, &spill).unwrap();
    // ...and the first task that spills fails, naming the directory.
    let err = ctx
        .run_job(sorted_by_key(records(300), 3))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&spill.display().to_string())
            && err.contains("cannot create the spill directory")
            && err.contains("BARKS_SPILL_DIR"),
        "{err}"
    );
}

#[test]
fn a_killed_workers_spill_directory_goes_when_the_next_process_spills_there() {
    let dir = tempfile::tempdir().unwrap();
    let input = records(400);
    let expected = lengths_model(&input);
    // The spill directory of process `pid`, if there is one.
    let dir_of = |pid: u32| {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(&format!("barks-spill-{pid}-"))
            })
    };
    let victim = {
        let ctx = Context::builder("local-cluster[2,1]")
            .worker_timeout(Duration::from_millis(1500))
            .worker_memory(MemoryOptions {
                memory: TIGHT,
                spill_dir: dir.path().to_path_buf(),
            })
            .build()
            .unwrap();
        let victim = ctx.local_worker_pids()[0];
        let job_ctx = ctx.clone();
        let job_input = input.clone();
        let job = std::thread::spawn(move || job_ctx.run_job(slow_lengths(job_input, 12, 150)));
        eventually("the victim has spilled", || {
            dir_of(victim).is_some_and(|d| !files_under(&d).is_empty())
        });
        // SAFETY: plain syscall on a child process id the context started.
        assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
        let got = job
            .join()
            .unwrap()
            .expect("the job recomputes what the victim held");
        assert_eq!(sorted(got), expected);
        victim
    };
    // The live workers removed theirs when they stopped; the victim could not.
    eventually("only the victim's directory is left", || {
        std::fs::read_dir(dir.path()).unwrap().count() == 1
    });
    assert!(dir_of(victim).is_some());
    // The next process that spills in the same place removes it.
    let ctx = cluster(TIGHT, dir.path()).unwrap();
    let got = ctx.run_job(slow_lengths(input, 3, 0)).unwrap();
    assert_eq!(sorted(got), expected);
    assert!(
        dir_of(victim).is_none(),
        "the dead worker's directory is gone"
    );
    drop(ctx);
    eventually("every spill directory is removed", || {
        std::fs::read_dir(dir.path()).unwrap().count() == 0
    });
}
