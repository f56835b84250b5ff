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
use barks_io::parquet::Batch;
use barks_runtime::job::{ArgDecoder, ArgEncoder, JOBS, JobDef, build_plan};
use barks_runtime::plan::Plan;
use barks_runtime::{Context, Master, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
use std::sync::Arc;

/// The job every query runs as.
#[linkme::distributed_slice(JOBS)]
static QUERY: JobDef = JobDef {
    name: "sql query",
    id: "barks_sql::query/1",
    build,
};

/// What the driver sends: the plan and the settings it was planned with.
#[derive(serde::Serialize, serde::Deserialize)]
struct QueryArgs {
    plan: Vec<u8>,
    settings: Vec<(String, String)>,
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
        return context.run(|| lineage(&stages, &task).collect());
    }
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
    let mut args = ArgEncoder::new(QUERY.name);
    args.arg(&QueryArgs {
        plan: bytes.to_vec(),
        settings,
    });
    context.run_job(args.into_job::<Vec<Batch>>(&QUERY))
}

/// Rebuilds a query's lineage from its arguments (on the driver and on workers).
fn build(args: &[u8], default_parallelism: usize) -> Result<Plan> {
    let mut decoder = ArgDecoder::new(QUERY.name, args);
    let query: QueryArgs = decoder.arg()?;
    decoder.finish()?;
    let mut config = SessionConfig::new();
    for (key, value) in &query.settings {
        config.options_mut().set(key, value).map_err(from_datafusion)?;
    }
    let session = SessionContext::new_with_config(config);
    functions::register_all(&session);
    let task = session.task_ctx();
    let codec = DefaultPhysicalExtensionCodec {};
    let plan = physical_plan_from_bytes_with_extension_codec(&query.plan, &task, &codec)
        .map_err(from_datafusion)?;
    let stages = Stages::cut(plan).map_err(from_datafusion)?;
    build_plan::<Vec<Batch>, _>(&QUERY, args, default_parallelism, |_| {
        Ok(lineage(&stages, &task).collect())
    })
}
