use barks::prelude::*;
use std::collections::BTreeMap;

#[barks::job]
fn word_count(lines: Vec<String>) -> Vec<(String, u64)> {
    pipeline! {
        let text = parallelize(lines, 3);
        let counts = text
            .flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b);
        counts.collect()
    }
}

#[test]
fn smoke() {
    let lines = vec!["a b a".to_string(), "".into(), "c b a".into(), "d".into()];
    let ctx = Context::new("local-cluster[2,1]").unwrap();
    let got: BTreeMap<_, _> = ctx.run_job(word_count(lines.clone())).unwrap().into_iter().collect();
    eprintln!("{got:?}");
    assert_eq!(got.len(), 4);
}
