//! PageRank, Spark's classic example: a loop inside one barks job (see
//! `examples::jobs::pagerank::page_ranks`).
//!
//! - `pagerank` ranks a generated power-law graph (2,000 nodes, 20,000 edges);
//! - `pagerank --input PATH` ranks the graph in PATH (`src dst` lines).
//!
//! Prints the ten highest-ranked nodes. Flags: `--iters N` (default 10),
//! `--top N`, `--master M`.

use examples::cli::{Args, Help};
use examples::datagen::Rng;
use examples::jobs::pagerank::page_ranks;
use std::fmt::Write as _;
use std::process::ExitCode;

const HELP: Help = Help {
    usage: "pagerank [--input PATH] [--iters N] [--top N] [--master URL]",
    about: "PageRank: ranks the nodes of a graph with a loop inside one barks job and prints \
        the highest-ranked nodes.",
    flags: &[
        (
            "--input PATH",
            "the graph, as `src dst` lines (default: a generated power-law graph of 2,000 \
             nodes and 20,000 edges)",
        ),
        ("--iters N", "how many iterations (default 10)"),
        (
            "--top N",
            "how many of the highest-ranked nodes to print (default 10)",
        ),
    ],
    env: &[],
    runs_jobs: true,
};

/// A small power-law graph as `src dst` lines.
fn generated_graph(nodes: u64, edges: u64) -> String {
    let mut rng = Rng::new(7, 0, 0);
    let draw = |rng: &mut Rng| {
        let x = (nodes as f64 + 1.0).powf(rng.next_f64()) - 1.0;
        (x as u64).min(nodes - 1)
    };
    let mut s = String::new();
    for _ in 0..edges {
        let src = draw(&mut rng);
        let dst = draw(&mut rng) * 7919 % nodes;
        let _ = writeln!(s, "{src} {dst}");
    }
    s
}

fn main() -> ExitCode {
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let args = Args::from_env(&[], &HELP)?;
        let iters: usize = args.get_or("iters", 10)?;
        let top: usize = args.get_or("top", 10)?;
        let master = args.master();
        let mut temp = None;
        let path = match args.get("input") {
            Some(p) => p.to_string(),
            None => {
                let p =
                    std::env::temp_dir().join(format!("barks-pagerank-{}.txt", std::process::id()));
                std::fs::write(&p, generated_graph(2_000, 20_000))?;
                temp = Some(p.clone());
                p.to_string_lossy().into_owned()
            }
        };
        let ranks = page_ranks(path, iters).run_on(&master);
        if let Some(p) = temp {
            let _ = std::fs::remove_file(p);
        }
        let mut ranks = ranks?;
        ranks.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        println!(
            "{} ranked nodes after {iters} iterations; the top {top}:",
            ranks.len()
        );
        for (node, rank) in ranks.iter().take(top) {
            println!("{node}\t{rank:.6}");
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pagerank: {e}");
            ExitCode::FAILURE
        }
    }
}
