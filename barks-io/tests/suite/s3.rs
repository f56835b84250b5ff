//! S3 storage against a real server (Ceph RADOS Gateway; start it with
//! `eval "$(scripts/services/s3-rgw.sh)"`): listing, ranged and streaming
//! reads, multipart writes, `text_file` and `save_as_text_file` on `s3://`,
//! the output commit, and the errors a user meets. Every test works in its
//! own bucket; `curl` (SigV4) is the independent client that writes what
//! barks reads and reads what barks wrote.
#![cfg(feature = "s3")]

use crate::s3_support::s3;
use barks_io::s3::{MIN_PART_SIZE, S3Config, S3Storage};
use barks_io::storage::{FileMeta, Storage};
use barks_io::{FileCommitter, SaveAsTextFile, text_file};
use barks_runtime::{Context, Output, Result, parallelize};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn run<R: 'static>(threads: usize, pipeline: impl FnOnce() -> Output<R>) -> Result<R> {
    Context::new(&format!("local[{threads}]"))
        .unwrap()
        .run(pipeline)
}

/// Deterministic text: lines of varied length (empty ones, multi-byte
/// characters, some long), `\n` or `\r\n` endings, about `bytes` long.
fn sample_text(seed: u64, bytes: usize) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let words = [
        "alpha",
        "béta",
        "γάμμα",
        "日本語",
        "🦀",
        "x",
        "",
        "naïve café",
    ];
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        let len = match next(50) {
            0 => 2000 + next(20000) as usize,
            1..=5 => 0,
            _ => next(12) as usize,
        };
        text.push_str(&format!("{i}:"));
        for _ in 0..len {
            text.push_str(words[next(words.len() as u64) as usize]);
            text.push(' ');
        }
        text.push_str(if next(4) == 0 { "\r\n" } else { "\n" });
        i += 1;
    }
    text
}

/// The model of line splitting (see tests/text_io.rs at the root).
fn model_lines(contents: &str) -> Vec<String> {
    let mut lines: Vec<String> = contents
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if contents.is_empty() || contents.ends_with('\n') {
        lines.pop();
    }
    lines
}

fn write_all(storage: &dyn Storage, path: &str, data: &[u8]) {
    let mut out = storage.create(path).unwrap();
    out.write_all(data).unwrap();
    out.finish().unwrap();
}

fn read_all(storage: &dyn Storage, path: &str, start: u64) -> Vec<u8> {
    let mut data = Vec::new();
    storage
        .open_from(path, start)
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    data
}

fn names(files: &[FileMeta]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn text_file_on_s3_reads_what_a_local_read_reads() {
    let s3 = s3();
    let bucket = s3.bucket("text");
    let local = tempfile::tempdir().unwrap();
    let files = [
        ("a.txt", sample_text(1, 6 << 20)),
        ("b.txt", sample_text(2, 3000)),
        ("c.txt", String::new()),
        ("d.txt", "no newline at the end: ünïcödé".to_string()),
        (
            "e.txt",
            format!("short\n{}\nshort again\n", "long ".repeat(2_000_000)),
        ),
        ("_SUCCESS", String::new()),
        (".hidden", "never read\n".to_string()),
    ];
    for (name, text) in &files {
        s3.put(&bucket, &format!("in/{name}"), text.as_bytes());
        std::fs::write(local.path().join(name), text).unwrap();
    }
    let expected: Vec<String> = files[..5]
        .iter()
        .flat_map(|(_, t)| model_lines(t))
        .collect();
    let local_dir = local.path().to_string_lossy().into_owned();
    for parts in [1, 2, 5, 16, 64] {
        let from_s3 = run(4, || {
            text_file(format!("s3://{bucket}/in"), Some(parts)).collect()
        })
        .unwrap();
        let from_disk = run(4, || text_file(&local_dir, Some(parts)).collect()).unwrap();
        assert_eq!(from_s3.len(), expected.len(), "{parts} partitions");
        assert!(
            from_s3 == from_disk,
            "{parts} partitions: S3 and local reads differ"
        );
        assert!(
            from_s3 == expected,
            "{parts} partitions: S3 read differs from the model"
        );
    }
    let glob = run(2, || {
        text_file(format!("s3a://{bucket}/in/[bd].txt"), Some(3)).collect()
    })
    .unwrap();
    let bd: Vec<String> = [&files[1].1, &files[3].1]
        .iter()
        .flat_map(|t| model_lines(t))
        .collect();
    assert_eq!(glob, bd);
}

#[test]
fn listing_follows_prefixes_globs_hidden_files_and_pages() {
    let s3 = s3();
    let bucket = s3.bucket("list");
    let storage = s3.storage.as_ref();
    // More keys than one listing page holds (1000), written by 8 threads.
    std::thread::scope(|scope| {
        for t in 0..8 {
            let bucket = &bucket;
            scope.spawn(move || {
                for i in (t..1050).step_by(8) {
                    write_all(
                        storage,
                        &format!("s3://{bucket}/many/k{i:04}.txt"),
                        format!("{i}\n").as_bytes(),
                    );
                }
            });
        }
    });
    for key in [
        "many/_SUCCESS",
        "many/.hidden",
        "many/sub/deep.txt",
        "many-sibling/x.txt",
        "root.txt",
    ] {
        s3.put(&bucket, key, b"x\n");
    }
    s3.put(&bucket, "many/data.csv", b"a,b\n1,2\n");
    s3.put(&bucket, "hidden-only/_SUCCESS", b"");

    let all = storage.list(&format!("s3://{bucket}/many")).unwrap();
    let mut expected: Vec<String> = (0..1050)
        .map(|i| format!("s3://{bucket}/many/k{i:04}.txt"))
        .collect();
    expected.insert(0, format!("s3://{bucket}/many/data.csv"));
    assert_eq!(names(&all), expected);
    assert_eq!(all[0].size, 8);
    assert_eq!(all[1051 - 1].size, "1049\n".len() as u64);
    assert_eq!(storage.list(&format!("s3://{bucket}/many/")).unwrap(), all);

    let list = |pattern: &str| -> Vec<String> {
        let files = storage.list(&format!("s3://{bucket}/{pattern}")).unwrap();
        files
            .into_iter()
            .map(|f| f.path.rsplit_once(&bucket).unwrap().1.to_string())
            .collect()
    };
    assert_eq!(list("many/*.csv"), ["/many/data.csv"]);
    assert_eq!(list("many/k10*.txt").len(), 50);
    assert_eq!(list("many/k000?.txt").len(), 10);
    assert_eq!(list("many/*/deep.txt"), ["/many/sub/deep.txt"]);
    assert_eq!(list("many*/x.txt"), ["/many-sibling/x.txt"]);
    assert_eq!(list("many/k0001.txt"), ["/many/k0001.txt"]);
    assert_eq!(list(""), ["/root.txt"]);
    assert_eq!(list("hidden-only"), Vec::<String>::new());
    let s3a = storage.list(&format!("s3a://{bucket}/many/*.csv")).unwrap();
    assert_eq!(names(&s3a), [format!("s3a://{bucket}/many/data.csv")]);

    let missing = storage
        .list(&format!("s3://{bucket}/nothing"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains(&format!("s3://{bucket}/nothing")) && missing.contains("no such file"),
        "{missing}"
    );
    let no_match = storage
        .list(&format!("s3://{bucket}/many/*.json"))
        .unwrap_err()
        .to_string();
    assert!(
        no_match.contains("*.json") && no_match.contains("matches no file"),
        "{no_match}"
    );
    let bad_glob = storage
        .list(&format!("s3://{bucket}/many/[.txt"))
        .unwrap_err()
        .to_string();
    assert!(bad_glob.contains("invalid glob"), "{bad_glob}");

    // A prefix holding only hidden files is an empty input, not an error.
    let lines = run(2, || {
        text_file(format!("s3://{bucket}/hidden-only"), None).count()
    })
    .unwrap();
    assert_eq!(lines, 0);
    assert!(
        storage
            .has_entries(&format!("s3://{bucket}/hidden-only"))
            .unwrap()
    );
    assert!(
        storage
            .has_entries(&format!("s3://{bucket}/root.txt"))
            .unwrap()
    );
    assert!(
        !storage
            .has_entries(&format!("s3://{bucket}/many/k0"))
            .unwrap()
    );
}

#[test]
fn ranged_reads_clamp_to_the_object() {
    let s3 = s3();
    let bucket = s3.bucket("range");
    let storage = s3.storage.as_ref();
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    let big: Vec<u8> = (0..(13u32 << 20)).map(|i| (i % 253) as u8).collect();
    s3.put(&bucket, "data.bin", &data);
    s3.put(&bucket, "big.bin", &big);
    s3.put(&bucket, "empty", b"");
    let url = format!("s3://{bucket}/data.bin");
    for (range, want) in [
        (0..10, &data[0..10]),
        (990..2000, &data[990..]),
        (1000..1010, &[][..]),
        (5000..6000, &[][..]),
        (10..10, &[][..]),
        (0..1000, &data[..]),
    ] {
        assert_eq!(
            storage.read_range(&url, range.clone()).unwrap(),
            want,
            "{range:?}"
        );
    }
    assert_eq!(read_all(storage, &url, 0), data);
    assert_eq!(read_all(storage, &url, 500), &data[500..]);
    assert_eq!(read_all(storage, &url, 1000), b"");
    assert_eq!(read_all(storage, &url, 2000), b"");
    // Across several read windows (4 MiB, then 8 MiB, ...).
    let big_url = format!("s3://{bucket}/big.bin");
    assert!(read_all(storage, &big_url, 1) == big[1..]);
    assert!(
        storage.read_range(&big_url, (5 << 20)..(9 << 20)).unwrap() == big[(5 << 20)..(9 << 20)]
    );
    let empty = format!("s3://{bucket}/empty");
    assert_eq!(storage.read_range(&empty, 0..10).unwrap(), b"");
    assert_eq!(read_all(storage, &empty, 0), b"");

    let missing = format!("s3://{bucket}/missing.txt");
    for err in [
        storage.read_range(&missing, 0..10).unwrap_err(),
        storage.open_from(&missing, 0).err().unwrap(),
    ] {
        let err = err.to_string();
        assert!(
            err.contains(&missing) && err.contains("no such object"),
            "{err}"
        );
    }
}

#[test]
fn unicode_keys_and_contents_round_trip() {
    let s3 = s3();
    let bucket = s3.bucket("unicode");
    let storage = s3.storage.as_ref();
    let key = "uni/données/日本語 ü+x%&=.txt";
    let text = "première ligne\n第二行 🦀\n\u{0}\u{7f} tab\there\n";
    write_all(storage, &format!("s3://{bucket}/{key}"), text.as_bytes());
    assert_eq!(s3.get(&bucket, key), text.as_bytes());
    s3.put(&bucket, "uni/ß €.txt", "straße\n".as_bytes());
    let files = storage.list(&format!("s3://{bucket}/uni/*")).unwrap();
    assert_eq!(names(&files), [format!("s3://{bucket}/uni/ß €.txt")]);
    let files = storage.list(&format!("s3://{bucket}/uni/données")).unwrap();
    assert_eq!(names(&files), [format!("s3://{bucket}/{key}")]);
    let lines = run(2, || {
        text_file(format!("s3://{bucket}/uni/*/*.txt"), Some(3)).collect()
    })
    .unwrap();
    assert_eq!(lines, model_lines(text));

    let moved = "moved/✓ done.txt";
    storage
        .rename(
            &format!("s3://{bucket}/{key}"),
            &format!("s3://{bucket}/{moved}"),
        )
        .unwrap();
    assert_eq!(s3.get(&bucket, moved), text.as_bytes());
    assert_eq!(s3.keys(&bucket, "uni/d"), Vec::<String>::new());
}

#[test]
fn big_objects_go_up_in_parts_while_being_written() {
    let s3 = s3();
    let bucket = s3.bucket("multipart");
    let storage = S3Storage::new(&s3.config().part_size(MIN_PART_SIZE)).unwrap();
    let data: Vec<u8> = (0..(17u32 << 20) + 12345)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let url = format!("s3://{bucket}/big/object.bin");
    let mut out = storage.create(&url).unwrap();
    // Writes of all sizes, one bigger than a part.
    let (head, rest) = data.split_at(6 << 20);
    out.write_all(head).unwrap();
    for chunk in rest[..(5 << 20)].chunks(1000) {
        out.write_all(chunk).unwrap();
    }
    // Two parts are on their way before the writer is finished.
    assert_eq!(s3.pending_uploads(&bucket, "big/"), 1);
    assert_eq!(s3.keys(&bucket, "big/"), Vec::<String>::new());
    for chunk in rest[(5 << 20)..].chunks(3 << 20) {
        out.write_all(chunk).unwrap();
    }
    out.finish().unwrap();
    assert!(
        s3.get(&bucket, "big/object.bin") == data,
        "the object differs from what was written"
    );
    assert!(
        s3.etag(&bucket, "big/object.bin").ends_with("-4"),
        "not 4 parts"
    );
    assert_eq!(s3.pending_uploads(&bucket, "big/"), 0);

    // Small files are one PutObject.
    write_all(&storage, &format!("s3://{bucket}/small"), b"tiny");
    assert!(!s3.etag(&bucket, "small").contains('-'));

    // A writer dropped unfinished leaves no object and no upload.
    let mut out = storage.create(&format!("s3://{bucket}/dropped")).unwrap();
    out.write_all(&data[..(12 << 20)]).unwrap();
    assert_eq!(s3.pending_uploads(&bucket, "dropped"), 1);
    drop(out);
    assert_eq!(s3.pending_uploads(&bucket, "dropped"), 0);
    assert_eq!(s3.keys(&bucket, "dropped"), Vec::<String>::new());
}

#[test]
fn save_as_text_file_commits_parts_and_success() {
    let s3 = s3();
    let bucket = s3.bucket("save");
    let records: Vec<String> = (0..5000)
        .map(|i| format!("{i} ünïcödé 🦀 {}", "x".repeat(i % 50)))
        .collect();
    let out = format!("s3://{bucket}/out");
    let r = records.clone();
    run(3, || parallelize(r, Some(6)).save_as_text_file(&out)).unwrap();
    let mut expected: Vec<String> = (0..6).map(|p| format!("out/part-{p:05}")).collect();
    expected.insert(0, "out/_SUCCESS".into());
    assert_eq!(s3.keys(&bucket, "out/"), expected);
    assert_eq!(s3.pending_uploads(&bucket, "out/"), 0);
    let written: String = (0..6)
        .map(|p| String::from_utf8(s3.get(&bucket, &format!("out/part-{p:05}"))).unwrap())
        .collect();
    assert_eq!(model_lines(&written), records);
    assert_eq!(
        run(2, || text_file(&out, Some(4)).collect()).unwrap(),
        records
    );

    // The output directory must be new.
    let again = run(2, || parallelize(vec![1], Some(1)).save_as_text_file(&out)).unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    // An empty dataset still commits (empty parts, `_SUCCESS`).
    let empty = format!("s3://{bucket}/empty");
    run(2, || {
        parallelize(Vec::<u32>::new(), Some(3)).save_as_text_file(&empty)
    })
    .unwrap();
    assert_eq!(s3.keys(&bucket, "empty/").len(), 4);
    assert_eq!(run(2, || text_file(&empty, None).count()).unwrap(), 0);

    // An output bigger than two parts (8 MiB each), with large values.
    let big = format!("s3://{bucket}/big");
    let line = "ü".repeat(1 << 20);
    let lines: Vec<String> = (0..10).map(|i| format!("{i} {line}")).collect();
    let l = lines.clone();
    run(2, || parallelize(l, Some(1)).save_as_text_file(&big)).unwrap();
    assert!(s3.etag(&bucket, "big/part-00000").ends_with("-3"));
    assert_eq!(
        run(2, || text_file(&big, Some(7)).collect()).unwrap(),
        lines
    );
}

#[test]
fn a_failing_job_leaves_nothing_that_looks_complete() {
    let s3 = s3();
    let bucket = s3.bucket("fail");
    let out = format!("s3://{bucket}/out");
    let err = run(4, || {
        parallelize((0..4000).collect::<Vec<u32>>(), Some(8))
            .map(|x| {
                if x == 3900 {
                    panic!("record {x} is bad")
                } else {
                    x
                }
            })
            .save_as_text_file(&out)
    })
    .unwrap_err();
    assert!(err.to_string().contains("record 3900 is bad"), "{err}");
    assert_eq!(s3.keys(&bucket, ""), Vec::<String>::new());
    assert_eq!(s3.pending_uploads(&bucket, ""), 0);
    assert!(!s3.storage.has_entries(&out).unwrap());
}

#[test]
fn a_retried_task_publishes_only_its_winning_attempt() {
    let s3 = s3();
    let bucket = s3.bucket("retry");
    let out = format!("s3://{bucket}/out");
    let ctx = Context::new("local[2]").unwrap().with_max_task_attempts(3);
    static FAILED: AtomicBool = AtomicBool::new(false);
    ctx.run(|| {
        parallelize((0..3000).collect::<Vec<u32>>(), Some(3))
            .map(move |x| {
                // Partition 2 fails once, half-way through its part.
                if x == 2500 && !FAILED.swap(true, Ordering::SeqCst) {
                    panic!("flaky");
                }
                x
            })
            .save_as_text_file(&out)
    })
    .unwrap();
    let written = String::from_utf8(s3.get(&bucket, "out/part-00002")).unwrap();
    assert_eq!(
        model_lines(&written),
        (2000..3000).map(|x| x.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(s3.pending_uploads(&bucket, ""), 0);

    // An attempt that finished but lost (its result never reached the
    // driver) is discarded at commit.
    let committer = FileCommitter::new(&format!("s3://{bucket}/direct")).unwrap();
    committer.prepare().unwrap();
    let (mut lost, _) = committer.create_part(0, 0, ".txt").unwrap();
    lost.write_all(b"from the lost attempt\n").unwrap();
    lost.finish().unwrap();
    let (mut won, part) = committer.create_part(0, 1, ".txt").unwrap();
    won.write_all(b"from the winning attempt\n").unwrap();
    won.finish().unwrap();
    assert_eq!(s3.pending_uploads(&bucket, "direct/"), 2);
    assert_eq!(s3.keys(&bucket, "direct/"), Vec::<String>::new());
    committer.commit(vec![part]).unwrap();
    assert_eq!(
        s3.get(&bucket, "direct/part-00000.txt"),
        b"from the winning attempt\n"
    );
    assert_eq!(
        s3.keys(&bucket, "direct/"),
        ["direct/_SUCCESS", "direct/part-00000.txt"]
    );
    assert_eq!(s3.pending_uploads(&bucket, ""), 0);
}

#[test]
fn wrong_credentials_are_named_as_such() {
    let s3 = s3();
    let bucket = s3.bucket("creds");
    let storage = S3Storage::new(
        &s3.config()
            .static_credentials("barks-nobody", "wrong-secret")
            .max_attempts(1),
    )
    .unwrap();
    let url = format!("s3://{bucket}/x.txt");
    let errors = [
        storage.list(&url).unwrap_err(),
        storage.read_range(&url, 0..4).unwrap_err(),
        storage.create(&url).unwrap().finish().unwrap_err(),
    ];
    for err in errors {
        let err = err.to_string();
        assert!(err.contains(&url), "{err}");
        assert!(
            err.contains("access denied") && err.contains("AWS_ACCESS_KEY_ID"),
            "{err}"
        );
    }
    // A big write fails at its first part, and the object is never published.
    let mut out = storage.create(&url).unwrap();
    let err = out.write_all(&vec![b'x'; 9 << 20]).unwrap_err().to_string();
    assert!(err.contains("access denied"), "{err}");
    let err = out.finish().unwrap_err().to_string();
    assert!(err.contains(&url) && err.contains("earlier write"), "{err}");
    let wrong_secret = S3Storage::new(
        &s3.config()
            .static_credentials("barks-test", "wrong")
            .max_attempts(1),
    )
    .unwrap();
    let err = wrong_secret
        .list(&format!("s3://{bucket}/"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("access denied") && err.contains("SignatureDoesNotMatch"),
        "{err}"
    );
}

#[test]
fn a_missing_bucket_is_named() {
    let s3 = s3();
    let storage = s3.storage.as_ref();
    let bucket = "barks-no-such-bucket-anywhere";
    let url = format!("s3://{bucket}/in/x.txt");
    let expect = |err: String| {
        assert!(
            err.contains(&format!("bucket `{bucket}` does not exist")),
            "{err}"
        );
        assert!(err.contains(&s3.endpoint), "{err}");
    };
    expect(storage.list(&url).unwrap_err().to_string());
    expect(storage.read_range(&url, 0..1).unwrap_err().to_string());
    expect(
        storage
            .create(&url)
            .unwrap()
            .finish()
            .unwrap_err()
            .to_string(),
    );
    expect(
        run(2, || text_file(&url, None).count())
            .unwrap_err()
            .to_string(),
    );
    let out = format!("s3://{bucket}/out");
    expect(
        run(2, || parallelize(vec![1], Some(1)).save_as_text_file(&out))
            .unwrap_err()
            .to_string(),
    );
}

#[test]
fn an_unreachable_endpoint_fails_fast_and_says_so() {
    let config = S3Config::default()
        .endpoint("http://127.0.0.1:9")
        .static_credentials("k", "s")
        .max_attempts(1)
        .connect_timeout(Duration::from_secs(2));
    let storage = S3Storage::new(&config).unwrap();
    let started = Instant::now();
    let err = storage.list("s3://bucket/key").unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.contains("s3://bucket/key")
            && err.contains("cannot reach the S3 endpoint http://127.0.0.1:9"),
        "{err}"
    );
}

#[test]
fn https_goes_through_rustls_and_a_failed_handshake_is_named() {
    // The test gateway speaks plain HTTP: a TLS client meets no TLS server.
    let s3 = s3();
    let https = s3.endpoint.replace("http://", "https://");
    let storage = S3Storage::new(&s3.config().endpoint(&https).max_attempts(1)).unwrap();
    let err = storage.list("s3://bucket/key").unwrap_err().to_string();
    assert!(
        err.contains(&format!("cannot reach the S3 endpoint {https}")) && err.contains("key"),
        "{err}"
    );
}

#[test]
fn malformed_urls_are_errors() {
    let s3 = s3();
    for url in ["s3://", "s3:///key"] {
        let err = s3.storage.list(url).unwrap_err().to_string();
        assert!(err.contains("names no bucket"), "{err}");
        let err = run(1, || text_file(url, None).count())
            .unwrap_err()
            .to_string();
        assert!(err.contains("names no bucket"), "{err}");
    }
}

/// Lists with the environment's configuration and prints the error; run
/// by `missing_credentials_are_named` in a child process whose environment
/// holds no credentials.
#[test]
#[ignore = "run by missing_credentials_are_named in a child process"]
fn list_without_credentials() {
    let url = "s3://barks-any-bucket/x.txt";
    let storage = barks_io::backend::storage_for(url).unwrap();
    println!("ERROR: {}", storage.list(url).unwrap_err());
}

#[test]
fn missing_credentials_are_named() {
    let s3 = s3();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "s3::list_without_credentials",
            "--ignored",
            "--nocapture",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/barks/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/barks/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("BARKS_S3_ENDPOINT", &s3.endpoint)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("ERROR: "))
        .unwrap_or_else(|| {
            panic!(
                "the child printed no error: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(line.contains("s3://barks-any-bucket/x.txt"), "{line}");
    assert!(
        line.contains("no usable AWS credentials") && line.contains("AWS_ACCESS_KEY_ID"),
        "{line}"
    );
}
