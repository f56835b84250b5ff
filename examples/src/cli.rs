//! A tiny command-line parser: positional arguments, `--flag value`,
//! `--flag=value`, and boolean switches.

use std::collections::HashMap;

/// Parsed command-line arguments.
#[derive(Debug, Default)]
pub struct Args {
    pub positional: Vec<String>,
    values: HashMap<String, String>,
    switches: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()` (without the program name); `switches` are
    /// the flags that take no value.
    pub fn from_env(switches: &[&str]) -> Result<Args, String> {
        Args::parse(std::env::args().skip(1), switches)
    }

    /// Parses `args`; `switches` are the flags that take no value.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        switches: &[&str],
    ) -> Result<Args, String> {
        let mut out = Args::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            if let Some(flag) = arg.strip_prefix("--") {
                if let Some((k, v)) = flag.split_once('=') {
                    out.values.insert(k.to_string(), v.to_string());
                } else if switches.contains(&flag) {
                    out.switches.push(flag.to_string());
                } else {
                    let v = it.next().ok_or_else(|| format!("--{flag} needs a value"))?;
                    out.values.insert(flag.to_string(), v);
                }
            } else {
                out.positional.push(arg);
            }
        }
        Ok(out)
    }

    /// The value of `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `--name` parsed, or `default`.
    pub fn get_or<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: cannot parse `{v}`")),
        }
    }

    /// Whether the switch `--name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The master: `--master`, else `BARKS_MASTER`, else `local[*]`.
    pub fn master(&self) -> String {
        barks::runtime::context::master_url(self.get("master"))
    }
}

/// The thread count a master URL stands for (`local[N]`: N;
/// `local-cluster[N,S]`: N×S; `quic://`: this machine's cores).
pub fn threads_of(master: &str) -> Result<usize, String> {
    Ok(
        match barks::Master::parse(master).map_err(|e| e.to_string())? {
            barks::Master::Local { threads } => threads,
            barks::Master::LocalCluster { workers, slots } => workers * slots,
            barks::Master::Quic { .. } => {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            }
        },
    )
}

/// An integer from the environment variable `name`, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}
