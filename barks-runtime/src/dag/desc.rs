//! The serializable description of a job run: the DAG a driver sends workers.
//!
//! A [`PlanDesc`] is the part of a plan that travels: job id, serialized
//! arguments, stages with their partition counts and parents. Nothing in a
//! `PlanDesc` is code: a worker that gets one rebuilds the same typed graph
//! from its own compiled-in job registry.

use serde::{Deserialize, Serialize};

/// What a stage's tasks produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageKind {
    /// Map outputs of shuffle `shuffle`, kept for the stages that read it.
    ShuffleMap { shuffle: usize },
    /// Partition results of the job's action, sent to the driver.
    Result,
}

/// One stage of the DAG: a set of tasks, one per partition, that can run once
/// every parent stage is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDesc {
    /// Stages are numbered in a topological order; the result stage is last.
    pub id: usize,
    pub kind: StageKind,
    pub partitions: usize,
    pub parents: Vec<usize>,
}

/// The serializable description of a job run: the DAG a driver sends workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDesc {
    /// The registered id of the job.
    pub job: String,
    /// The job's arguments, encoded.
    pub args: Vec<u8>,
    /// The partition count used where the pipeline gives none.
    pub default_parallelism: usize,
    pub stages: Vec<StageDesc>,
}
