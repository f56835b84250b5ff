//! A query as a barks job.
//!
//! On a cluster, what crosses the wire is the optimized physical plan,
//! serialized with datafusion-proto, and the session's settings: the job's
//! arguments. Every process (the driver too) decodes them, cuts the plan into
//! the same stages and builds the same lineage, through the job registered
//! here under one id. In local mode the plan never leaves the process and is
//! not encoded at all.

use super::fragments::Stages;
use super::lineage::lineage;
use crate::errors::from_datafusion;
use crate::functions;
use crate::write::WriteSpec;
use barks_io::parquet::Batch;
use barks_runtime::job::{ArgDecoder, ArgEncoder, JOBS, JobDef, build_plan};
use barks_runtime::plan::Plan;
use barks_runtime::{Context, Master, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
use std::sync::{Arc, OnceLock};

/// The job a query whose rows go to the driver runs as.
#[linkme::distributed_slice(JOBS)]
static COLLECT: JobDef = JobDef {
    name: "sql query",
    id: "barks_sql::collect/1",
    build: build_collect,
};

/// The job a query whose rows go to files runs as.
#[linkme::distributed_slice(JOBS)]
static WRITE: JobDef = JobDef {
    name: "sql write",
    id: "barks_sql::write/1",
    build: build_write,
};

/// What the driver sends: the plan, the settings it was planned with, and
/// where a write goes.
#[derive(serde::Serialize, serde::Deserialize)]
struct QueryArgs {
    plan: Vec<u8>,
    settings: Vec<(String, String)>,
    write: Option<WriteSpec>,
}

/// Runs `plan` on `context`'s master and returns its batches in partition
/// order. `task` supplies functions, object stores and settings to local
/// tasks.
pub(crate) fn run_query(
    context: &Context,
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
) -> Result<Vec<Batch>> {
    if let Master::Local { .. } = context.master() {
        let stages = Stages::cut(plan).map_err(from_datafusion)?;
        return context.run(|| lineage(&stages, &task, &[]).collect());
    }
    let args = encode(&COLLECT, plan, &task, None)?;
    context.run_job(args.into_job::<Vec<Batch>>(&COLLECT))
}

/// Runs `plan` on `context`'s master and hands its batches to `each` a
/// result partition at a time, in partition order, as the partitions
/// complete (see [`Context::run_job_streaming`]).
pub(crate) fn stream_query(
    context: &Context,
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    mut each: impl FnMut(Vec<Batch>) -> Result<()> + Send + 'static,
) -> Result<()> {
    let each = move |_: usize, batches: Vec<Batch>| each(batches);
    if let Master::Local { .. } = context.master() {
        let stages = Stages::cut(plan).map_err(from_datafusion)?;
        return context.run_streaming(|| lineage(&stages, &task, &[]).collect(), each);
    }
    let args = encode(&COLLECT, plan, &task, None)?;
    context.run_job_streaming(args.into_job::<Vec<Batch>>(&COLLECT), each)
}

/// Runs `plan` on `context`'s master, writing its rows as `spec` says.
pub(crate) fn run_write(
    context: &Context,
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    spec: WriteSpec,
) -> Result<()> {
    if let Master::Local { .. } = context.master() {
        let stages = Stages::cut(plan).map_err(from_datafusion)?;
        return context.run(|| spec.output(&lineage(&stages, &task, &[])));
    }
    let args = encode(&WRITE, plan, &task, Some(spec))?;
    context.run_job(args.into_job::<()>(&WRITE))
}

fn encode(
    job: &JobDef,
    plan: Arc<dyn ExecutionPlan>,
    task: &TaskContext,
    write: Option<WriteSpec>,
) -> Result<ArgEncoder> {
    let codec = DefaultPhysicalExtensionCodec {};
    let bytes = physical_plan_to_bytes_with_extension_codec(plan, &codec).map_err(|e| {
        barks_runtime::Error::Sql(format!(
            "this query cannot run on a cluster yet: its plan cannot be serialized ({e})"
        ))
    })?;
    let settings = task
        .session_config()
        .options()
        .entries()
        .into_iter()
        .filter_map(|entry| Some((entry.key, entry.value?)))
        .collect();
    let mut args = ArgEncoder::new(job.name);
    args.arg(&QueryArgs {
        plan: bytes.to_vec(),
        settings,
        write,
    });
    Ok(args)
}

fn build_collect(args: &[u8], default_parallelism: usize) -> Result<Plan> {
    let (stages, task, _) = decode(&COLLECT, args)?;
    build_plan::<Vec<Batch>, _>(&COLLECT, args, default_parallelism, |_| {
        Ok(lineage(&stages, &task, &[]).collect())
    })
}

fn build_write(args: &[u8], default_parallelism: usize) -> Result<Plan> {
    let (stages, task, write) = decode(&WRITE, args)?;
    let spec = write.ok_or_else(|| {
        barks_runtime::Error::Internal("a SQL write job without its output".into())
    })?;
    build_plan::<(), _>(&WRITE, args, default_parallelism, |_| {
        Ok(spec.output(&lineage(&stages, &task, &[])))
    })
}

/// The runtime environment of every query this process rebuilds from job
/// arguments: one per process, so DataFusion's cache of Parquet footers and
/// page indexes (each entry checked against its file's size and
/// modification time) serves a worker's later queries, as a session's
/// serves its queries in local mode.
fn process_runtime_env() -> Arc<RuntimeEnv> {
    static ENV: OnceLock<Arc<RuntimeEnv>> = OnceLock::new();
    ENV.get_or_init(crate::storage::runtime_env).clone()
}

/// Rebuilds a query's stages from its arguments (on the driver and on workers).
fn decode(job: &JobDef, args: &[u8]) -> Result<(Stages, Arc<TaskContext>, Option<WriteSpec>)> {
    let mut decoder = ArgDecoder::new(job.name, args);
    let query: QueryArgs = decoder.arg()?;
    decoder.finish()?;
    let mut config = SessionConfig::new();
    for (key, value) in &query.settings {
        config
            .options_mut()
            .set(key, value)
            .map_err(from_datafusion)?;
    }
    let session = SessionContext::new_with_config_rt(config, process_runtime_env());
    functions::register_all(&session);
    let task = session.task_ctx();
    let codec = DefaultPhysicalExtensionCodec {};
    let plan = physical_plan_from_bytes_with_extension_codec(&query.plan, &task, &codec)
        .map_err(from_datafusion)?;
    let stages = Stages::cut(plan).map_err(from_datafusion)?;
    Ok((stages, task, query.write))
}
