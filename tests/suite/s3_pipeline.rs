//! `#[barks::job]` pipelines that read and write `s3://` against a real S3
//! server (Ceph RGW: `eval "$(scripts/services/s3-rgw.sh)"`), in local mode
//! and with worker processes (`local-cluster`), where part files are
//! written by workers and committed by the driver. `curl` is the
//! independent client that writes the input and reads the output.
#![cfg(feature = "s3")]

use crate::s3_support::s3;
use barks::prelude::*;
use std::collections::BTreeMap;

const MASTERS: [&str; 2] = ["local[3]", "local-cluster[2,2]"];

#[barks::job]
fn s3_word_count(input: String, output: String) -> () {
    pipeline! {
        let lines = text_file(input);
        let counts = lines
            .flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .map(|(w, n): (String, u64)| format!("{w}\t{n}"));
        counts.save_as_text_file(output)
    }
}

#[barks::job]
fn s3_copy_failing_on(input: String, output: String, poison: String) -> () {
    pipeline! {
        let lines = text_file(input);
        let checked = lines.map(move |l: String| {
            if l.contains(poison.as_str()) {
                panic!("poisoned line {l:?}");
            }
            l
        });
        checked.save_as_text_file(output)
    }
}

/// Input files: words in several scripts, repeated with a skew.
fn input_files() -> Vec<(String, String)> {
    let words = ["apple", "Äpfel", "яблоко", "りんご", "🍎", "apple", "pear"];
    (0..4)
        .map(|f| {
            let text: String = (0..3000)
                .map(|i| {
                    let n = (i * 7 + f) % words.len();
                    format!("{} {}\n", words[n], words[(n * n + i) % words.len()])
                })
                .collect();
            (format!("in/part-{f}.txt"), text)
        })
        .collect()
}

#[test]
fn a_word_count_reads_and_writes_s3() {
    let s3 = s3();
    let bucket = s3.bucket("pipeline");
    let files = input_files();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (key, text) in &files {
        s3.put(&bucket, key, text.as_bytes());
        for w in text.split_whitespace() {
            *expected.entry(w.to_string()).or_default() += 1;
        }
    }
    for (i, master) in MASTERS.iter().enumerate() {
        let out = format!("out-{i}");
        s3_word_count(
            format!("s3://{bucket}/in/*.txt"),
            format!("s3://{bucket}/{out}"),
        )
        .run_on(master)
        .unwrap_or_else(|e| panic!("{master}: {e}"));
        let keys = s3.keys(&bucket, &format!("{out}/"));
        assert!(
            keys.contains(&format!("{out}/_SUCCESS")),
            "{master}: {keys:?}"
        );
        assert_eq!(
            s3.pending_uploads(&bucket, &format!("{out}/")),
            0,
            "{master}"
        );
        let mut got = BTreeMap::new();
        for key in keys.iter().filter(|k| k.contains("/part-")) {
            for line in String::from_utf8(s3.get(&bucket, key)).unwrap().lines() {
                let (w, n) = line.split_once('\t').unwrap();
                assert!(
                    got.insert(w.to_string(), n.parse::<u64>().unwrap())
                        .is_none(),
                    "{w} twice"
                );
            }
        }
        assert_eq!(got, expected, "{master}");
    }
}

#[test]
fn a_failing_job_leaves_no_output_on_s3() {
    let s3 = s3();
    let bucket = s3.bucket("pipefail");
    for (key, text) in input_files() {
        s3.put(&bucket, &key, text.as_bytes());
    }
    for (i, master) in MASTERS.iter().enumerate() {
        let out = format!("out-{i}");
        let err = s3_copy_failing_on(
            format!("s3://{bucket}/in"),
            format!("s3://{bucket}/{out}"),
            "りんご pear".into(),
        )
        .run_on(master)
        .unwrap_err();
        assert!(err.to_string().contains("poisoned line"), "{master}: {err}");
        assert_eq!(
            s3.keys(&bucket, &format!("{out}/")),
            Vec::<String>::new(),
            "{master}"
        );
        assert_eq!(
            s3.pending_uploads(&bucket, &format!("{out}/")),
            0,
            "{master}"
        );
    }
}

#[test]
fn a_missing_input_bucket_is_named_in_the_job_error() {
    let s3 = s3();
    let bucket = s3.bucket("pipemissing");
    let err = s3_word_count(
        "s3://barks-no-such-input-bucket/in".into(),
        format!("s3://{bucket}/out"),
    )
    .run_on("local[2]")
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("bucket `barks-no-such-input-bucket` does not exist"),
        "{err}"
    );
    assert_eq!(s3.keys(&bucket, ""), Vec::<String>::new());
}
