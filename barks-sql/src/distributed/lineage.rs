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
//!
//! An exchange fed by an input dataset (SQL inside `pipeline!`) routes the
//! dataset's partition `j` as reader partition `j`. When a fragment reads
//! nothing but one such input, partition `j` from task `j`, it is a narrow
//! step over the dataset instead: no shuffle.

use super::fragments::{ExchangeKind, Feed, Stages};
use super::reader::TaskInputs;
use super::task;
use crate::errors::from_datafusion;
use barks_io::parquet::Batch;
use barks_runtime::{BoxIter, Dataset, ErrorSink, Result, Source, from_source};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::Time;
use datafusion::physical_plan::repartition::BatchPartitioner;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Where a shuffled batch goes: (task of the reading stage, exchange,
/// reader partition).
type Route = (u32, u32, u32);

/// The lineage that computes `stages`' root fragment, one batch stream per
/// partition. `base` supplies functions, object stores and settings;
/// `inputs` are the datasets the plan's [`Feed::Input`] exchanges read (one
/// for each input index the plan names: see [`Stages::inputs_read`]).
pub(crate) fn lineage(
    stages: &Stages,
    base: &Arc<TaskContext>,
    inputs: &[Dataset<Batch>],
) -> Dataset<Batch> {
    fragment(stages, stages.root, base, inputs)
}

fn fragment(
    stages: &Stages,
    f: usize,
    base: &Arc<TaskContext>,
    inputs: &[Dataset<Batch>],
) -> Dataset<Batch> {
    let frag = &stages.fragments[f];
    let plan = frag.plan.clone();
    let base = base.clone();
    let reads = stages.reads(f);
    if let Some(narrow) = narrow_over_input(stages, f, &reads, &base, inputs) {
        return narrow;
    }
    if let Some(sorted) = range_sorted(stages, f, &base, inputs) {
        return sorted;
    }
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
        let (child, projection) = match &exchange.child {
            Feed::Fragment(c) => (fragment(stages, *c, &base, inputs), None),
            Feed::Input { input, projection } => (inputs[*input].clone(), projection.clone()),
        };
        let router = Router {
            exchange: e as u32,
            kind: exchange.kind.clone(),
            readers: Arc::new(readers),
            child_partitions: child.num_partitions(),
            projection,
        };
        routed.push(
            child.try_map_partitions_with_index(move |origin, batches, errors| {
                router.start(origin, batches, errors)
            }),
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

/// Fragment `f` as a narrow step over an input dataset, if all it reads is
/// one input exchange, partition `p` by task `p`.
fn narrow_over_input(
    stages: &Stages,
    f: usize,
    reads: &[BTreeSet<(usize, usize)>],
    base: &Arc<TaskContext>,
    inputs: &[Dataset<Batch>],
) -> Option<Dataset<Batch>> {
    let frag = &stages.fragments[f];
    let &[e] = frag.inputs.as_slice() else {
        return None;
    };
    let Feed::Input { input, projection } = &stages.exchanges[e].child else {
        return None;
    };
    let data = &inputs[*input];
    let identity = reads.len() == data.num_partitions()
        && reads
            .iter()
            .enumerate()
            .all(|(p, pairs)| pairs.len() == 1 && pairs.contains(&(e, p)));
    if !identity {
        return None;
    }
    let (plan, base, projection) = (frag.plan.clone(), base.clone(), projection.clone());
    Some(
        data.try_map_partitions_with_index(move |p, batches, errors| {
            let mut delivered = Vec::new();
            for batch in batches {
                delivered.push(project(batch.0, projection.as_deref()).map_err(from_arrow)?);
            }
            task::run(&plan, p, TaskInputs::one(e, p, delivered), &base, errors)
        }),
    )
}

/// Fragment `f` over a range-partitioned sort of its one input exchange
/// (see [`range_sort`](super::range_sort)): barks' sort shuffle of the
/// child's rows, each task reading its key range.
fn range_sorted(
    stages: &Stages,
    f: usize,
    base: &Arc<TaskContext>,
    inputs: &[Dataset<Batch>],
) -> Option<Dataset<Batch>> {
    let frag = &stages.fragments[f];
    let &[e] = frag.inputs.as_slice() else {
        return None;
    };
    let exchange = &stages.exchanges[e];
    let (ExchangeKind::RangeSort(rows), Feed::Fragment(c)) = (&exchange.kind, &exchange.child)
    else {
        return None;
    };
    let child = fragment(stages, *c, base, inputs);
    let encoder = rows.clone();
    let keyed = child.try_map_partitions_with_index(move |_, batches, errors| {
        let (encoder, errors) = (encoder.clone(), errors.clone());
        Ok(
            batches.flat_map(move |batch| match encoder.encode(&batch.0) {
                Ok(rows) => rows.into_iter().map(|row| (row, ())).collect(),
                Err(e) => {
                    errors.fail(from_datafusion(e));
                    Vec::new()
                }
            }),
        )
    });
    let (plan, base, rows) = (frag.plan.clone(), base.clone(), rows.clone());
    let batch_size = base.session_config().batch_size().max(1);
    Some(
        keyed
            .sort_by_key(true)
            .try_map_partitions_with_index(move |p, sorted, errors| {
                let sorted: Vec<Vec<u8>> = sorted.map(|(row, ())| row).collect();
                let batches = sorted
                    .chunks(batch_size)
                    .map(|chunk| rows.decode(chunk))
                    .collect::<datafusion::common::Result<Vec<_>>>()
                    .map_err(from_datafusion)?;
                task::run(&plan, p, TaskInputs::one(e, p, batches), &base, errors)
            }),
    )
}

/// `batch` with only the `columns` given, if any.
fn project(
    batch: RecordBatch,
    columns: Option<&[usize]>,
) -> std::result::Result<RecordBatch, ArrowError> {
    match columns {
        Some(columns) => batch.project(columns),
        None => Ok(batch),
    }
}

fn from_arrow(e: ArrowError) -> barks_runtime::Error {
    from_datafusion(DataFusionError::ArrowError(Box::new(e), None))
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
    /// The columns an input dataset's batches keep (see [`Feed::Input`]).
    projection: Option<Vec<usize>>,
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
            ExchangeKind::RangeSort(_) => {
                return Err(barks_runtime::Error::Internal(
                    "a range-sorted exchange read by a fragment with other inputs".into(),
                ));
            }
        };
        let (exchange, readers, errors) = (self.exchange, self.readers.clone(), errors.clone());
        let projection = self.projection.clone();
        Ok(batches.flat_map(move |batch| {
            let batch = match project(batch.0, projection.as_deref()) {
                Ok(batch) => batch,
                Err(e) => {
                    errors.fail(from_arrow(e));
                    return Vec::new();
                }
            };
            let pieces: Vec<(usize, RecordBatch)> = match &mut split {
                None => vec![(origin, batch)],
                Some(split) => match split
                    .partition_iter(batch)
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
