//! A tiny command-line parser: positional arguments, `--flag value`,
//! `--flag=value`, boolean switches, and `--help` / `-h`, which prints the
//! binary's [`Help`] and exits.

use std::collections::HashMap;
use std::fmt::Write as _;

/// What `--help` prints: what a binary does, every flag it accepts (with
/// its default) and the environment variables it reads.
pub struct Help {
    /// The usage line(s), after `usage: `: the binary's name, then its
    /// arguments.
    pub usage: &'static str,
    /// What the binary does: paragraphs separated by blank lines.
    pub about: &'static str,
    /// Each flag as written (`--top N`) and what it does, default included.
    pub flags: &'static [(&'static str, &'static str)],
    /// Each environment variable read and what it does, default included.
    pub env: &'static [(&'static str, &'static str)],
    /// Whether the binary runs jobs: then `--master`, `--secret` and the
    /// variables barks reads (master, secret, spilling, timeouts, logging)
    /// are listed after its own.
    pub runs_jobs: bool,
}

/// The variables barks reads in a binary that runs jobs.
const JOB_ENV: [(&str, &str); 5] = [ENV_MASTER, ENV_SECRET, ENV_SPILL, ENV_TIMEOUTS, ENV_LOG];

/// `--master`, for every binary that runs jobs.
pub const MASTER_FLAG: (&str, &str) = (
    "--master URL",
    "where the jobs run: local[N], local[*], local-cluster[N,S] (N worker processes of S slots) \
     or quic://HOST:PORT (a driver that workers join) (default: BARKS_MASTER, else local[*])",
);

/// The cluster secret of a `quic://` master (read by barks itself).
pub const SECRET_FLAGS: (&str, &str) = (
    "--secret S, --secret-file PATH",
    "the cluster secret for a quic:// master; workers need the same one \
     (default: BARKS_SECRET, else BARKS_SECRET_FILE)",
);

/// `BARKS_MASTER`, for every binary whose `--master` defaults to it.
pub const ENV_MASTER: (&str, &str) = (
    "BARKS_MASTER",
    "the master when --master is not given (default local[*])",
);

/// The cluster secret's variables (a `quic://` master, or a worker).
pub const ENV_SECRET: (&str, &str) = (
    "BARKS_SECRET, BARKS_SECRET_FILE",
    "the cluster secret of a quic:// master, or the file holding it",
);

/// The execution memory budget and spill directory (of the driver's local
/// tasks and of cluster workers; a `local-cluster`'s workers inherit the
/// driver's environment).
pub const ENV_SPILL: (&str, &str) = (
    "BARKS_MEMORY, BARKS_SPILL_DIR",
    "the execution memory budget of a process's tasks, e.g. 2g (default: 60% of the \
     machine's memory or of the cgroup's limit), and where they spill what does not fit \
     (default: the system temp directory)",
);

/// The cluster driver's timeouts.
pub const ENV_TIMEOUTS: (&str, &str) = (
    "BARKS_WORKER_TIMEOUT_MS, BARKS_NO_WORKER_TIMEOUT_MS",
    "in cluster mode, drop a silent worker after this many ms (default 10000); fail a job \
     that has no worker for this long (default 120000)",
);

/// The cluster log level.
pub const ENV_LOG: (&str, &str) = (
    "BARKS_LOG",
    "in cluster mode, what is logged to stderr: error, warn, info, debug or trace \
     (default warn)",
);

/// `-h, --help`, listed by every binary.
const HELP_FLAG: (&str, &str) = ("-h, --help", "print this help and exit");

/// The width `Help` wraps its text to.
const WIDTH: usize = 80;

/// `text` wrapped to `WIDTH` columns, every line after the first indented
/// by `indent` spaces; the first line starts at column `start`.
fn wrap(out: &mut String, text: &str, start: usize, indent: usize) {
    let mut column = start;
    // Help texts are ASCII. (Not `split_whitespace`: a third caller of its
    // search loop in this crate made LLVM stop inlining it into the word
    // count benchmark's per-line loop, 12% more instructions; see
    // BENCHMARKS.md.)
    let words = text.split_ascii_whitespace();
    for (i, word) in words.enumerate() {
        if i > 0 && column + 1 + word.len() > WIDTH {
            let _ = write!(out, "\n{:indent$}", "");
            column = indent;
        } else if i > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
    }
    out.push('\n');
}

/// A table of names and descriptions: a name longer than the column gets a
/// line of its own.
fn table(out: &mut String, title: &str, rows: &[(&str, &str)]) {
    let _ = writeln!(out, "\n{title}:");
    let column = rows
        .iter()
        .map(|(name, _)| name.len())
        .filter(|n| *n <= 24)
        .max()
        .unwrap_or(0)
        + 4;
    for (name, what) in rows {
        let _ = write!(out, "  {name}");
        if name.len() + 2 < column {
            let _ = write!(out, "{:1$}", "", column - name.len() - 2);
        } else {
            let _ = write!(out, "\n{:column$}", "");
        }
        wrap(out, what, column, column);
    }
}

impl Help {
    /// The text `--help` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, line) in self.usage.lines().enumerate() {
            let prefix = if i == 0 { "usage: " } else { "       " };
            let _ = writeln!(out, "{prefix}{}", line.trim());
        }
        for paragraph in self.about.split("\n\n") {
            out.push('\n');
            wrap(&mut out, paragraph, 0, 0);
        }
        let job_flags: &[_] = if self.runs_jobs {
            &[MASTER_FLAG, SECRET_FLAGS]
        } else {
            &[]
        };
        let flags: Vec<(&str, &str)> = (self.flags.iter().chain(job_flags).copied())
            .chain([HELP_FLAG])
            .collect();
        table(&mut out, "flags", &flags);
        let job_env: &[_] = if self.runs_jobs { &JOB_ENV } else { &[] };
        let env: Vec<(&str, &str)> = self.env.iter().chain(job_env).copied().collect();
        if !env.is_empty() {
            table(&mut out, "environment", &env);
        }
        out
    }
}

/// Whether `args` ask for help: `--help` or `-h` anywhere (also where a
/// flag's value would be: `--input --help` asks for help too).
pub fn wants_help<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter().any(|a| matches!(a.as_ref(), "--help" | "-h"))
}

/// Parsed command-line arguments.
#[derive(Debug, Default)]
pub struct Args {
    pub positional: Vec<String>,
    values: HashMap<String, String>,
    switches: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()` (without the program name); `switches` are
    /// the flags that take no value. With `--help` or `-h`, prints `help` to
    /// stdout and exits with status 0.
    pub fn from_env(switches: &[&str], help: &Help) -> Result<Args, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if wants_help(&args) {
            print!("{}", help.render());
            std::process::exit(0);
        }
        Args::parse(args, switches)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_is_asked_for_anywhere() {
        assert!(wants_help(&["--help"]));
        assert!(wants_help(&["--input", "-h"]));
        assert!(!wants_help(&["--input", "--helper", "h"]));
    }

    #[test]
    fn help_lists_flags_and_environment_within_the_width() {
        const HELP: Help = Help {
            usage: "demo [--top N]\n  [--master URL]",
            about: "Does a thing. Words words words words words words words words words words \
                    words words words words.\n\nA second paragraph.",
            flags: &[("--top N", "how many (default 10)")],
            env: &[],
            runs_jobs: true,
        };
        let text = HELP.render();
        assert!(text.starts_with("usage: demo [--top N]\n       [--master URL]\n\nDoes"));
        assert!(text.contains("\n\nA second paragraph.\n"));
        assert!(text.contains("\n  --top N       how many (default 10)\n"));
        assert!(text.contains("\n  -h, --help    print this help and exit\n"));
        assert!(text.contains("\n  --master URL  where the jobs run"));
        assert!(text.contains("\nenvironment:\n  BARKS_MASTER"));
        assert!(text.contains("\n  BARKS_LOG"));
        assert!(text.lines().all(|l| l.len() <= WIDTH), "{text}");
    }
}
