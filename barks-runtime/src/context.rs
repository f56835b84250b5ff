//! Where jobs run: the master (`local[N]`, `local[*]`), chosen in code, with a
//! `--master` flag or with `BARKS_MASTER`.

use crate::action::Output;
use crate::build;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::local;
use crate::plan::Plan;
use std::any::Any;

/// The environment variable that names the master when no flag does.
pub const MASTER_ENV: &str = "BARKS_MASTER";

/// The master used when neither flag nor environment names one.
pub const DEFAULT_MASTER: &str = "local[*]";

/// The master URL to use: `flag` if given, else `BARKS_MASTER`, else
/// `local[*]` (for programs that parse their own command line).
pub fn master_url(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| {
            std::env::var(MASTER_ENV)
                .ok()
                .filter(|m| !m.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_MASTER.to_string())
}

/// Where a job's tasks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Master {
    /// Threads of this process.
    Local { threads: usize },
}

impl Master {
    /// Parses `local`, `local[N]` or `local[*]`.
    pub fn parse(given: &str) -> Result<Master> {
        let err = |message: &str| Error::Master {
            given: given.to_string(),
            message: message.to_string(),
        };
        let s = given.trim();
        if s == "local" {
            return Ok(Master::Local { threads: 1 });
        }
        if let Some(inner) = s.strip_prefix("local[").and_then(|r| r.strip_suffix(']')) {
            let threads = if inner == "*" {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                inner
                    .parse::<usize>()
                    .map_err(|_| err("the thread count must be a positive number or `*`"))?
            };
            if threads == 0 {
                return Err(err("the thread count must be at least 1"));
            }
            return Ok(Master::Local { threads });
        }
        Err(err("expected `local`, `local[N]` or `local[*]`"))
    }
}

/// A place to run jobs.
///
/// ```
/// let ctx = barks_runtime::Context::new("local[2]").unwrap();
/// assert_eq!(ctx.default_parallelism(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Context {
    master: Master,
    max_task_attempts: u32,
}

impl Context {
    /// A context for the master URL `master`.
    pub fn new(master: &str) -> Result<Context> {
        Ok(Context {
            master: Master::parse(master)?,
            max_task_attempts: 1,
        })
    }

    /// The master from `--master M` (or `--master=M`) on the command line,
    /// else from `BARKS_MASTER`, else `local[*]`.
    pub fn from_env() -> Result<Context> {
        let mut args = std::env::args().skip(1);
        let mut flag = None;
        while let Some(arg) = args.next() {
            if arg == "--master" {
                flag = args.next();
                break;
            } else if let Some(m) = arg.strip_prefix("--master=") {
                flag = Some(m.to_string());
                break;
            }
        }
        Context::new(&master_url(flag.as_deref()))
    }

    /// Gives each task up to `attempts` attempts (default 1 in local mode).
    pub fn with_max_task_attempts(mut self, attempts: u32) -> Context {
        self.max_task_attempts = attempts.max(1);
        self
    }

    /// The master jobs run on.
    pub fn master(&self) -> &Master {
        &self.master
    }

    /// The partition count sources and shuffles use when given none.
    pub fn default_parallelism(&self) -> usize {
        match self.master {
            Master::Local { threads } => threads,
        }
    }

    /// Runs a registered job.
    pub fn run_job<R: 'static>(&self, job: Job<R>) -> Result<R> {
        let plan = job.plan(self.default_parallelism())?;
        self.execute(&plan)
    }

    /// Builds a pipeline from a closure and runs it, without registering a job:
    /// handy in tests and in local mode (a cluster cannot rebuild a closure).
    pub fn run<R: 'static>(&self, pipeline: impl FnOnce() -> Output<R>) -> Result<R> {
        let output = build::in_scope(self.default_parallelism(), pipeline);
        let plan = Plan::new(
            output.action,
            "<closure>".into(),
            Vec::new(),
            self.default_parallelism(),
        );
        self.execute(&plan)
    }

    fn execute<R: 'static>(&self, plan: &Plan) -> Result<R> {
        let result: Box<dyn Any + Send> = match self.master {
            Master::Local { threads } => local::run(plan, threads, self.max_task_attempts)?,
        };
        result.downcast::<R>().map(|r| *r).map_err(|_| {
            Error::Plan(format!(
                "internal error: job `{}` produced an unexpected type",
                plan.job()
            ))
        })
    }
}
