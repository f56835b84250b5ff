use barks::prelude::*;

// Each closure of a pipeline owns what it reads (it is made `move`): a
// `String` argument read by two closures is moved into the first, so the
// other needs its own clone, made before the pipeline. rustc's suggestion
// says where: before `pipeline!`.

// Two closures fused into one run.
#[barks::job]
fn mentions(lines: Vec<String>, word: String) -> Vec<String> {
    pipeline! {
        let lines = parallelize(lines);
        let hits = lines.filter(|s: &String| s.contains(&word)).map(|s| s.replace(&word, "_"));
        hits.collect()
    }
}

// Two closures in separate stages, the second in the output.
#[barks::job]
fn replaced(lines: Vec<String>, word: String) -> Vec<String> {
    pipeline! {
        let hits = parallelize(lines).filter(|s: &String| s.contains(&word)).distinct();
        hits.map(|s| s.replace(&word, "_")).collect()
    }
}

// One closure in a loop: moved in the first iteration.
#[barks::job]
fn filtered(lines: Vec<String>, word: String, rounds: usize) -> Vec<String> {
    pipeline! {
        let lines = parallelize(lines);
        for _ in 0..rounds {
            lines = lines.filter(|s: &String| s.contains(&word));
        }
        lines.collect()
    }
}

fn main() {}
