//! Where jobs run: the master (`local[N]`, `local[*]`, `local-cluster[N]`,
//! `quic://HOST:PORT`), chosen in code, with a `--master` flag or with
//! `BARKS_MASTER`.

use crate::cluster::net::{NetConfig, Secret};
use crate::cluster::{
    Cluster, LocalWorkers, Timeouts, build_fingerprint, init_logging, keep_constructor,
};
use crate::error::{Error, Result};
use crate::exec::job_run::RunLimits;
use crate::exec::local;
use crate::job::Job;
use crate::memory::{Memory, MemoryOptions, max_result_size_from_env};
use crate::ops::action::Output;
use crate::plan::Plan;
use crate::plan::scope;
use std::any::Any;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// `workers` processes of this binary on loopback, `slots` tasks each.
    LocalCluster { workers: usize, slots: usize },
    /// Listen at `addr` for workers started with `--join`.
    Quic { addr: SocketAddr },
}

impl Master {
    /// Parses `local`, `local[N]`, `local[*]`, `local-cluster[N]`,
    /// `local-cluster[N,SLOTS]` or `quic://HOST:PORT`.
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
        if let Some(inner) = s
            .strip_prefix("local-cluster[")
            .and_then(|r| r.strip_suffix(']'))
        {
            let numbers: Vec<Option<usize>> = inner
                .split(',')
                .map(|n| n.trim().parse::<usize>().ok().filter(|n| *n > 0))
                .collect();
            return match numbers[..] {
                [Some(workers)] => Ok(Master::LocalCluster {
                    workers,
                    slots: (std::thread::available_parallelism().map_or(1, |n| n.get()) / workers)
                        .max(1),
                }),
                [Some(workers), Some(slots)] => Ok(Master::LocalCluster { workers, slots }),
                _ => Err(err(
                    "expected `local-cluster[N]` or `local-cluster[N,SLOTS]` with positive numbers",
                )),
            };
        }
        if let Some(addr) = s.strip_prefix("quic://") {
            let addr = addr
                .to_socket_addrs()
                .map_err(|e| err(&format!("cannot resolve `{addr}`: {e}")))?
                .next()
                .ok_or_else(|| err(&format!("`{addr}` resolves to no address")))?;
            return Ok(Master::Quic { addr });
        }
        Err(err(
            "expected `local`, `local[N]`, `local[*]`, `local-cluster[N]`, `local-cluster[N,SLOTS]` or `quic://HOST:PORT`",
        ))
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
    limits: RunLimits,
    /// This process's execution memory budget and spill area (local mode's
    /// tasks; a cluster's workers have their own).
    memory: Arc<Memory>,
    /// The driver side of a cluster master; its workers stop when the last
    /// clone of the context is dropped.
    cluster: Option<Arc<Cluster>>,
}

/// Options of a [`Context`], set in code before it starts
/// ([`Context::builder`]). What is not set comes from the environment, read
/// once by [`build`](ContextBuilder::build).
#[derive(Debug, Clone)]
pub struct ContextBuilder {
    master: String,
    max_task_attempts: Option<u32>,
    max_result_size: Option<u64>,
    timeouts: Option<Timeouts>,
    memory: Option<u64>,
    spill_dir: Option<PathBuf>,
    worker_memory: Option<MemoryOptions>,
    secret: Option<Secret>,
}

impl ContextBuilder {
    /// The secret a `quic://` master's workers must know (default: from
    /// `--secret`, `--secret-file`, `BARKS_SECRET` or `BARKS_SECRET_FILE`).
    /// A `local-cluster` makes its own.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Gives each task up to `attempts` attempts (default 1 in local mode,
    /// 4 on a cluster).
    pub fn max_task_attempts(mut self, attempts: u32) -> Self {
        self.max_task_attempts = Some(attempts.max(1));
        self
    }

    /// The most bytes of encoded partition results the driver holds for
    /// one job (`collect`'s rows, an action's per-partition results), as
    /// Spark's `spark.driver.maxResultSize`: a job whose results go over
    /// fails with an error saying so, instead of exhausting the driver's
    /// memory (default `BARKS_MAX_RESULT_SIZE`, else 1 GiB; `u64::MAX` is
    /// unlimited). Results handed on as they come
    /// ([`Context::run_streaming`]) count only while they wait for the
    /// partitions before them.
    pub fn max_result_size(mut self, bytes: u64) -> Self {
        self.max_result_size = Some(bytes);
        self
    }

    /// How long a cluster waits for a silent worker before it is dropped and
    /// its work recomputed (default `BARKS_WORKER_TIMEOUT_MS`, else 10 s).
    pub fn worker_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts_mut().worker = timeout;
        self
    }

    /// How long a cluster job with tasks to run waits while no worker is
    /// connected (default `BARKS_NO_WORKER_TIMEOUT_MS`, else 120 s).
    pub fn no_worker_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts_mut().no_worker = timeout;
        self
    }

    /// The execution memory budget of this process's tasks, in bytes
    /// (default `BARKS_MEMORY`, else 60% of the machine's memory or of the
    /// cgroup's limit; `u64::MAX` is unlimited). Operators and shuffle
    /// outputs spill what does not fit. A `local-cluster`'s workers get it
    /// too, unless [`worker_memory`](Self::worker_memory) says otherwise.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// Where this process spills (default `BARKS_SPILL_DIR`, else the
    /// system temp directory): a directory of its own is made inside on the
    /// first spill and removed when the context is dropped.
    pub fn spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// The memory budget and spill directory of each worker of a
    /// `local-cluster` (default: the context's [`memory`](Self::memory) if
    /// set, else what each worker's own environment says, else the default
    /// budget divided among the workers).
    pub fn worker_memory(mut self, memory: MemoryOptions) -> Self {
        self.worker_memory = Some(memory);
        self
    }

    fn timeouts_mut(&mut self) -> &mut Timeouts {
        // Unset timeouts keep their defaults, not the environment's: a
        // timeout set in code is never half from the environment.
        self.timeouts.get_or_insert_with(Timeouts::default)
    }

    /// Starts the context: a `local-cluster`'s workers start now, a
    /// `quic://` master starts listening.
    pub fn build(self) -> Result<Context> {
        // `BARKS_LOG` works in local mode too (a task's memory and spill
        // metrics are logged at `info`).
        init_logging();
        let master = Master::parse(&self.master)?;
        let timeouts = match self.timeouts {
            Some(timeouts) => timeouts,
            None => Timeouts::from_env()?,
        };
        let env = MemoryOptions::from_env()?;
        let options = MemoryOptions {
            memory: self.memory.unwrap_or(env.memory),
            spill_dir: self.spill_dir.unwrap_or(env.spill_dir),
        };
        let cluster = match master {
            Master::Local { .. } => None,
            Master::LocalCluster { workers, slots } => {
                let worker_memory = match (self.worker_memory, self.memory) {
                    (Some(given), _) => Some(given),
                    (None, Some(_)) => Some(options.clone()),
                    (None, None) if MemoryOptions::memory_in_env() => None,
                    // Every worker would take the default share of the
                    // machine: divide it among them.
                    (None, None) => Some(MemoryOptions {
                        memory: options.memory / workers.max(1) as u64,
                        spill_dir: options.spill_dir.clone(),
                    }),
                };
                Some(start_local_cluster(
                    workers,
                    slots,
                    timeouts,
                    worker_memory.as_ref(),
                )?)
            }
            Master::Quic { addr } => Some(listen(addr, timeouts, self.secret)?),
        };
        let default_attempts = if cluster.is_some() { 4 } else { 1 };
        let max_result_size = match self.max_result_size {
            Some(bytes) => bytes,
            None => max_result_size_from_env()?,
        };
        Ok(Context {
            limits: RunLimits {
                max_attempts: self.max_task_attempts.unwrap_or(default_attempts),
                max_result_size,
            },
            memory: Memory::new(&options),
            master,
            cluster: cluster.map(Arc::new),
        })
    }
}

/// How long `local-cluster` waits for its workers to join.
const LOCAL_CLUSTER_START: Duration = Duration::from_secs(60);

impl Context {
    /// A context for the master URL `master`, with the options the
    /// environment sets (see [`ContextBuilder`]). A `local-cluster` master
    /// starts its worker processes now; a `quic://` master starts listening
    /// for workers (the cluster secret comes from `--secret`,
    /// `--secret-file`, `BARKS_SECRET` or `BARKS_SECRET_FILE`).
    pub fn new(master: &str) -> Result<Context> {
        Context::builder(master).build()
    }

    /// A context for `master` whose options are set in code before it
    /// starts:
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ctx = barks_runtime::Context::builder("local[2]")
    ///     .max_task_attempts(3)
    ///     .worker_timeout(Duration::from_millis(1500))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(ctx.default_parallelism(), 2);
    /// ```
    pub fn builder(master: &str) -> ContextBuilder {
        ContextBuilder {
            master: master.to_string(),
            max_task_attempts: None,
            max_result_size: None,
            timeouts: None,
            memory: None,
            spill_dir: None,
            worker_memory: None,
            secret: None,
        }
    }

    /// The process ids of a `local-cluster`'s workers (empty otherwise).
    pub fn local_worker_pids(&self) -> Vec<u32> {
        self.cluster
            .as_ref()
            .and_then(|c| c.local_workers())
            .map(LocalWorkers::pids)
            .unwrap_or_default()
    }

    /// Where a cluster master listens for workers.
    pub fn cluster_address(&self) -> Option<SocketAddr> {
        self.cluster.as_ref().map(|c| c.address())
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

    /// Gives each task up to `attempts` attempts (default 1 in local mode,
    /// 4 on a cluster).
    pub fn with_max_task_attempts(mut self, attempts: u32) -> Context {
        self.limits.max_attempts = attempts.max(1);
        self
    }

    /// Gives this process's tasks an execution memory budget of `bytes`
    /// (see [`ContextBuilder::memory`]); the workers of a running cluster
    /// keep theirs.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap().with_memory(4 << 10);
    /// assert_eq!(ctx.memory_budget(), 4 << 10);
    /// let sorted = ctx
    ///     .run(|| parallelize((0..10_000u32).rev().map(|n| (n, ())).collect(), Some(4)).sort_by_key(true).keys().collect())
    ///     .unwrap();
    /// assert_eq!(sorted, (0..10_000).collect::<Vec<_>>());
    /// ```
    pub fn with_memory(mut self, bytes: u64) -> Context {
        self.memory = Memory::new(&MemoryOptions {
            memory: bytes,
            spill_dir: self.memory.spills.base().to_path_buf(),
        });
        self
    }

    /// This process's execution memory budget, in bytes.
    pub fn memory_budget(&self) -> u64 {
        self.memory.budget.limit()
    }

    /// The master jobs run on.
    pub fn master(&self) -> &Master {
        &self.master
    }

    /// The partition count sources and shuffles use when given none.
    pub fn default_parallelism(&self) -> usize {
        match self.master {
            Master::Local { threads } => threads,
            Master::LocalCluster { workers, slots } => workers * slots,
            Master::Quic { .. } => self.cluster.as_ref().map_or(2, |c| c.slots().max(2)),
        }
    }

    /// Runs a registered job.
    pub fn run_job<R: 'static>(&self, job: Job<R>) -> Result<R> {
        let plan = job.plan(self.default_parallelism())?;
        self.execute(&plan)
    }

    /// Builds a pipeline from a closure and runs it, without registering a job:
    /// handy in tests and in local mode (a cluster cannot rebuild a closure).
    /// Fails before running anything if a source recorded an error with
    /// [`scope::fail`](crate::plan::scope::fail) while the pipeline was built.
    pub fn run<R: 'static>(&self, pipeline: impl FnOnce() -> Output<R>) -> Result<R> {
        let plan = self.closure_plan(pipeline)?;
        self.execute(&plan)
    }

    fn closure_plan<R: 'static>(&self, pipeline: impl FnOnce() -> Output<R>) -> Result<Plan> {
        let output = scope::try_in_scope(self.default_parallelism(), || Ok(pipeline()))?;
        Ok(Plan::new(
            output.action,
            "<closure>".into(),
            Vec::new(),
            self.default_parallelism(),
        ))
    }

    /// Runs a registered job and hands each result partition to `each` on
    /// the driver, in partition order, as soon as it and every partition
    /// before it have succeeded, instead of merging them at the end (Spark's
    /// `toLocalIterator`, without rerunning the job per partition). `P` is
    /// what the job's action yields per partition: for `collect`, the
    /// partition's `Vec<T>`. `each` runs on the driver's loop, so it should
    /// hand the partition on (to a channel) rather than work on it; an error
    /// from it fails the job, which stops launching tasks.
    pub fn run_job_streaming<R: 'static, P: 'static>(
        &self,
        job: Job<R>,
        each: impl FnMut(usize, P) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let plan = job.plan(self.default_parallelism())?;
        self.execute_streaming(plan, each)
    }

    /// [`run`](Self::run) with its result partitions handed to `each` as
    /// they complete, as [`run_job_streaming`](Self::run_job_streaming)
    /// does.
    ///
    /// ```
    /// use barks_runtime::{Context, parallelize};
    ///
    /// let ctx = Context::new("local[2]").unwrap();
    /// let (send, receive) = std::sync::mpsc::channel();
    /// ctx.run_streaming(
    ///     || parallelize((1..=6).collect::<Vec<u32>>(), Some(3)).collect(),
    ///     // `collect` yields each partition's rows as a `Vec`.
    ///     move |partition, rows: Vec<u32>| {
    ///         let _ = send.send((partition, rows));
    ///         Ok(())
    ///     },
    /// )
    /// .unwrap();
    /// let seen: Vec<_> = receive.iter().collect();
    /// assert_eq!(seen, vec![(0, vec![1, 2]), (1, vec![3, 4]), (2, vec![5, 6])]);
    /// ```
    pub fn run_streaming<R: 'static, P: 'static>(
        &self,
        pipeline: impl FnOnce() -> Output<R>,
        each: impl FnMut(usize, P) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let plan = self.closure_plan(pipeline)?;
        self.execute_streaming(plan, each)
    }

    fn execute_streaming<P: 'static>(
        &self,
        plan: Plan,
        mut each: impl FnMut(usize, P) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let job = plan.desc.job.clone();
        let plan = plan.deliver_results(Box::new(move |partition, part| {
            let part = part.downcast::<P>().map_err(|_| {
                Error::Internal(format!(
                    "job `{job}` yields partition results that are not `{}`",
                    std::any::type_name::<P>()
                ))
            })?;
            each(partition, *part)
        }));
        // What the action merged is what was not delivered: nothing.
        self.execute_erased(&plan).map(drop)
    }

    fn execute<R: 'static>(&self, plan: &Plan) -> Result<R> {
        let result = self.execute_erased(plan)?;
        result.downcast::<R>().map(|r| *r).map_err(|_| {
            Error::Internal(format!("job `{}` produced an unexpected type", plan.job()))
        })
    }

    fn execute_erased(&self, plan: &Plan) -> Result<Box<dyn Any + Send>> {
        match (&self.master, &self.cluster) {
            (_, Some(cluster)) => cluster.run(plan, self.limits),
            (Master::Local { threads }, None) => {
                local::run(plan, *threads, self.limits, &self.memory)
            }
            (_, None) => Err(Error::Internal("a cluster master without a cluster".into())),
        }
    }
}

/// Starts `workers` worker processes of this binary and waits until they joined.
fn start_local_cluster(
    workers: usize,
    slots: usize,
    timeouts: Timeouts,
    memory: Option<&MemoryOptions>,
) -> Result<Cluster> {
    keep_constructor();
    let secret = Secret::generate();
    let config = Arc::new(NetConfig::new(secret.clone(), build_fingerprint()));
    let cluster = Cluster::listen(([127, 0, 0, 1], 0).into(), config, timeouts)?;
    // `local-cluster` makes its own secret and prints it once, on the
    // terminal (never in a log line), so that more workers can be added by
    // hand with `worker --join ADDR --secret S`.
    eprintln!(
        "barks: local-cluster[{workers},{slots}] listening at {}, cluster secret {}",
        cluster.address(),
        secret.expose()
    );
    let local = LocalWorkers::spawn(workers, slots, cluster.address(), &secret, memory)?;
    let cluster = cluster.with_local_workers(local);
    cluster.wait_for_slots(workers * slots, LOCAL_CLUSTER_START)?;
    Ok(cluster)
}

/// Listens at `addr` for workers that know the cluster secret: `secret`,
/// else the one from the command line or the environment.
fn listen(addr: SocketAddr, timeouts: Timeouts, secret: Option<Secret>) -> Result<Cluster> {
    let secret = match secret {
        Some(secret) => secret,
        None => {
            let (flag, file) = secret_flags();
            Secret::from_sources(flag.as_deref(), file.as_deref().map(std::path::Path::new))?
                .ok_or_else(|| Error::Master {
                    given: format!("quic://{addr}"),
                    message: "a cluster needs a secret: pass --secret or --secret-file, set BARKS_SECRET or BARKS_SECRET_FILE, or give one to Context::builder(..).secret(..) (workers need the same one)".into(),
                })?
        }
    };
    let config = Arc::new(NetConfig::new(secret, build_fingerprint()));
    let cluster = Cluster::listen(addr, config, timeouts)?;
    let addr = cluster.address();
    eprintln!(
        "barks: driver listening at {addr}; start workers with `barks worker --join {addr}` (or a `worker` binary of your own: `cargo run --bin worker -- --join {addr}`)"
    );
    Ok(cluster)
}

/// `--secret S` and `--secret-file F` from the command line.
fn secret_flags() -> (Option<String>, Option<String>) {
    let (mut secret, mut file) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secret" => secret = args.next(),
            "--secret-file" => file = args.next(),
            _ => {
                if let Some(v) = arg.strip_prefix("--secret=") {
                    secret = Some(v.to_string());
                } else if let Some(v) = arg.strip_prefix("--secret-file=") {
                    file = Some(v.to_string());
                }
            }
        }
    }
    (secret, file)
}

/// Running a job where its caller says, or where the environment says.
impl<R: 'static> Job<R> {
    /// Runs the job on the master named by `--master`, `BARKS_MASTER` or
    /// the default `local[*]`.
    pub fn run(self) -> Result<R> {
        Context::from_env()?.run_job(self)
    }

    /// Runs the job on the master `master` (e.g. `"local[4]"`).
    pub fn run_on(self, master: &str) -> Result<R> {
        Context::new(master)?.run_job(self)
    }
}
