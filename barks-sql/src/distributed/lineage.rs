//! Turning cut [`Stages`] into a barks lineage of `Dataset<Batch>`es.
//!
//! A fragment with no exchange below it is a [`Source`] whose partition `p`
//! runs the fragment's partition `p`. A fragment that reads exchanges is the
//! reduce side of **one** barks shuffle: the map side is the union of its
//! child fragments, each batch split by its exchange's partitioning and
//! keyed by a [`Route`] (the task that reads it, the exchange, the reader
//! partition); the shuffle partitions by the task. So a stage's inputs
//! arrive together whatever their number, and a broadcast side (a collected
//! join build side) is simply routed to every task that reads it.

use super::fragments::{ExchangeKind, Stages};
use super::reader::TaskInputs;
use super::task;
use crate::errors::from_datafusion;
use barks_io::parquet::Batch;
use barks_runtime::{BoxIter, Dataset, ErrorSink, Result, Source, from_source};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::Time;
use datafusion::physical_plan::repartition::BatchPartitioner;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a shuffled batch goes: (task of the reading stage, exchange,
/// reader partition).
type Route = (u32, u32, u32);

/// The lineage that computes `stages`' root fragment, one batch stream per
/// partition. `base` supplies functions, object stores and settings.
pub(crate) fn lineage(stages: &Stages, base: &Arc<TaskContext>) -> Dataset<Batch> {
    fragment(stages, stages.root, base)
}

fn fragment(stages: &Stages, f: usize, base: &Arc<TaskContext>) -> Dataset<Batch> {
    let frag = &stages.fragments[f];
    let plan = frag.plan.clone();
    let base = base.clone();
    let reads = stages.reads(f);
    let mut routed = Vec::new();
    for &e in &frag.inputs {
        let exchange = &stages.exchanges[e];
        // For each reader partition of `e`, the tasks that read it.
        let mut readers: Vec<Vec<u32>> = vec![Vec::new(); exchange.reader_partitions];
        for (task, pairs) in reads.iter().enumerate() {
            for &(_, r) in pairs.iter().filter(|(x, _)| *x == e) {
                if let Some(tasks) = readers.get_mut(r) {
                    tasks.push(task as u32);
                }
            }
        }
        let router = Router {
            exchange: e as u32,
            kind: exchange.kind.clone(),
            readers: Arc::new(readers),
            child_partitions: stages.fragments[exchange.child].partitions,
        };
        routed.push(
            fragment(stages, exchange.child, &base).try_map_partitions_with_index(
                move |origin, batches, errors| router.start(origin, batches, errors),
            ),
        );
    }
    let Some(map_side) = routed.into_iter().reduce(|a, b| a.union(&b)) else {
        return from_source(FragmentScan {
            plan,
            partitions: frag.partitions,
            base,
        });
    };
    let reads = Arc::new(reads);
    map_side
        .partition_with(frag.partitions, |route: &Route, _| route.0 as usize)
        .try_map_partitions_with_index(move |p, records, errors| {
            let mut batches: HashMap<(usize, usize), Vec<RecordBatch>> = HashMap::new();
            for ((_, e, r), batch) in records {
                batches
                    .entry((e as usize, r as usize))
                    .or_default()
                    .push(batch.0);
            }
            let routed = reads.get(p).cloned().unwrap_or_default();
            task::run(&plan, p, TaskInputs { routed, batches }, &base, errors)
        })
}

/// A fragment that reads no exchange, as a barks source.
struct FragmentScan {
    plan: Arc<dyn ExecutionPlan>,
    partitions: usize,
    base: Arc<TaskContext>,
}

impl Source for FragmentScan {
    type Item = Batch;

    fn num_partitions(&self) -> usize {
        self.partitions
    }

    fn read(&self, partition: usize, errors: ErrorSink) -> Result<BoxIter<Batch>> {
        let run = task::run(
            &self.plan,
            partition,
            TaskInputs::default(),
            &self.base,
            &errors,
        )?;
        Ok(BoxIter::new(run))
    }
}

/// The map side of one exchange: splits a child partition's batches and
/// keys each piece by the tasks that read it.
struct Router {
    exchange: u32,
    kind: ExchangeKind,
    readers: Arc<Vec<Vec<u32>>>,
    child_partitions: usize,
}

impl Router {
    fn start(
        &self,
        origin: usize,
        batches: BoxIter<Batch>,
        errors: &ErrorSink,
    ) -> Result<impl Iterator<Item = (Route, Batch)> + Send + 'static + use<>> {
        let mut split = match &self.kind {
            ExchangeKind::Split(partitioning) => Some(
                BatchPartitioner::try_new(
                    partitioning.clone(),
                    Time::new(),
                    origin,
                    self.child_partitions,
                )
                .map_err(from_datafusion)?,
            ),
            ExchangeKind::Gather => None,
        };
        let (exchange, readers, errors) = (self.exchange, self.readers.clone(), errors.clone());
        Ok(batches.flat_map(move |batch| {
            let pieces: Vec<(usize, RecordBatch)> = match &mut split {
                None => vec![(origin, batch.0)],
                Some(split) => match split
                    .partition_iter(batch.0)
                    .and_then(|pieces| pieces.collect::<datafusion::common::Result<Vec<_>>>())
                {
                    Ok(pieces) => pieces,
                    Err(e) => {
                        errors.fail(from_datafusion(e));
                        Vec::new()
                    }
                },
            };
            let mut out = Vec::new();
            for (r, piece) in pieces {
                if piece.num_rows() == 0 {
                    continue;
                }
                for &task in readers.get(r).map(Vec::as_slice).unwrap_or_default() {
                    out.push(((task, exchange, r as u32), Batch(piece.clone())));
                }
            }
            out
        }))
    }
}
