//! Joining two co-partitioned datasets partition by partition: a hash table
//! is built from the right side's partition and the left side streams
//! through it. The table is built within the task's share of the memory
//! budget; when it does not fit, the partition is joined by key from both
//! sides' spilling cogroup instead (a grace hash join, see
//! [`spill_group`](crate::ops::spill_group)).

use crate::agg::fast_map::FastMap;
use crate::agg::key_table::KeyTable;
use crate::data::{Data, Key};
use crate::error::Result;
use crate::memory::{Reservation, current_task};
use crate::ops::dataset::Dataset;
use crate::ops::spill_group::{Metered, cogroup_within_budget};
use crate::plan::node::{AnyNode, Dep, Node, TaskContext};
use crate::plan::scope;
use crate::records::BoxIter;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

struct ZipPartitions<A, B, Out, F> {
    id: usize,
    left: Arc<dyn Node<A>>,
    right: Arc<dyn Node<B>>,
    f: F,
    _out: PhantomData<fn() -> Out>,
}

impl<A: 'static, B: 'static, Out: 'static, F: Send + Sync> AnyNode for ZipPartitions<A, B, Out, F> {
    fn id(&self) -> usize {
        self.id
    }
    fn num_partitions(&self) -> usize {
        self.left.num_partitions()
    }
    fn deps(&self) -> Vec<Dep> {
        vec![
            Dep::Narrow(self.left.clone()),
            Dep::Narrow(self.right.clone()),
        ]
    }
}

impl<A, B, Out, F, I> Node<Out> for ZipPartitions<A, B, Out, F>
where
    A: 'static,
    B: 'static,
    Out: 'static,
    F: Fn(BoxIter<A>, BoxIter<B>) -> I + Send + Sync,
    I: Iterator<Item = Out> + Send + 'static,
{
    fn compute(&self, partition: usize, tc: &TaskContext) -> Result<BoxIter<Out>> {
        let left = self.left.compute(partition, tc)?;
        let right = self.right.compute(partition, tc)?;
        Ok(BoxIter::new((self.f)(left, right)))
    }
}

/// Combines partition `i` of `left` with partition `i` of `right`; both must
/// have the same partition count. The result keeps `left`'s key partitioning.
pub(crate) fn zip_partitions<A, B, Out, F, I>(
    left: &Dataset<A>,
    right: &Dataset<B>,
    f: F,
) -> Dataset<Out>
where
    A: Send + 'static,
    B: Send + 'static,
    Out: Send + 'static,
    F: Fn(BoxIter<A>, BoxIter<B>) -> I + Send + Sync + 'static,
    I: Iterator<Item = Out> + Send + 'static,
{
    debug_assert_eq!(left.num_partitions(), right.num_partitions());
    let node = ZipPartitions {
        id: scope::next_id(),
        left: left.node.clone(),
        right: right.node.clone(),
        f,
        _out: PhantomData,
    };
    let mut out = Dataset::from_node(Arc::new(node));
    out.hash_partitions = left.hash_partitions;
    out
}

/// A join's build side: the first value of each key in a [`KeyTable`] (as
/// many bytes a key as a value takes, for dense integer keys), and the
/// further values of the keys that have more in a map of their own, empty
/// for the common build side with one value per key (a reduce's output).
struct Build<K, W> {
    first: KeyTable<K, W>,
    rest: FastMap<K, Vec<W>>,
}

impl<K: Hash + Eq + 'static, W> Default for Build<K, W> {
    fn default() -> Self {
        Build {
            first: KeyTable::default(),
            rest: FastMap::default(),
        }
    }
}

impl<K: Hash + Eq + 'static, W> Build<K, W> {
    fn new(right: impl Iterator<Item = (K, W)>) -> Self {
        let mut first = KeyTable::default();
        first.hint_keys(right.size_hint().0);
        let mut rest: FastMap<K, Vec<W>> = FastMap::default();
        right.for_each(|(k, w)| match first.get_mut(&k) {
            Some(_) => rest.entry(k).or_default().push(w),
            None => first.upsert(k, |_| w),
        });
        Build { first, rest }
    }

    /// The values of `key`, if it has any. Always inlined: it runs once per
    /// probe record, and LLVM's own choice flips with unrelated code (3.6%
    /// more instructions on the join benchmark when it was not inlined).
    #[inline(always)]
    fn matches(&mut self, key: &K) -> Option<Matches<'_, W>> {
        let first = &*self.first.get_mut(key)?;
        let rest = if self.rest.is_empty() {
            &[][..]
        } else {
            self.rest.get(key).map_or(&[][..], Vec::as_slice)
        };
        Some(Matches { first, rest })
    }

    /// Every key with its values, in the table's order.
    fn into_values(self) -> impl Iterator<Item = (K, W)>
    where
        K: Clone,
    {
        let mut rest = self.rest;
        self.first.into_iter().flat_map(move |(k, w)| {
            let more = rest.remove(&k).unwrap_or_default();
            std::iter::once(w).chain(more).map(move |w| (k.clone(), w))
        })
    }
}

/// The values of one key on a join's build side.
struct Matches<'a, W> {
    first: &'a W,
    rest: &'a [W],
}

impl<W> Matches<'_, W> {
    fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// The `i`-th value (`i < len()`).
    fn get(&self, i: usize) -> &W {
        match i.checked_sub(1) {
            None => self.first,
            Some(j) => &self.rest[j],
        }
    }
}

/// The general hash join of one partition: `(key, (left, right))` for every
/// match; with `keep_left`, unmatched left records with `None`; with
/// `keep_right`, unmatched right records (after the left side ends).
pub(crate) struct OuterJoin<K, V, W> {
    table: Build<K, W>,
    /// The table's share of the budget, held while it is.
    _reservation: Option<Reservation>,
    /// With `keep_right`, the keys a left record matched.
    matched: Option<KeyTable<K, ()>>,
    left: BoxIter<(K, V)>,
    keep_left: bool,
    keep_right: bool,
    /// The left record being matched and the index of its next match.
    current: Option<(K, V, usize)>,
    unmatched: Option<std::vec::IntoIter<(K, W)>>,
}

impl<K: Hash + Eq + Clone + 'static, V: Clone, W: Clone> OuterJoin<K, V, W> {
    fn new(
        left: BoxIter<(K, V)>,
        table: Build<K, W>,
        reservation: Option<Reservation>,
        keep_left: bool,
        keep_right: bool,
    ) -> Self {
        OuterJoin {
            table,
            _reservation: reservation,
            matched: keep_right.then(KeyTable::default),
            left,
            keep_left,
            keep_right,
            current: None,
            unmatched: None,
        }
    }

    /// The rows of an inner join (neither side's unmatched records kept),
    /// folded: the left records stream through the table in the left
    /// side's own `fold`, a chunk at a time, instead of a `next` per row.
    pub(crate) fn fold_matches<B>(self, init: B, mut g: impl FnMut(B, (K, (V, W))) -> B) -> B {
        debug_assert!(!self.keep_left && !self.keep_right);
        let OuterJoin {
            mut table,
            left,
            current,
            ..
        } = self;
        let mut rows = |mut acc, k: K, v: V, m: Matches<'_, W>, from: usize| {
            // Each match but the last gets copies; the last takes the record.
            for i in from..m.len() - 1 {
                acc = g(acc, (k.clone(), (v.clone(), m.get(i).clone())));
            }
            g(acc, (k, (v, m.get(m.len() - 1).clone())))
        };
        let mut acc = init;
        // The rest of a left record's matches, if `next` stopped among them.
        if let Some((k, v, from)) = current {
            match table.matches(&k) {
                Some(m) if from < m.len() => acc = rows(acc, k, v, m, from),
                _ => {}
            }
        }
        left.fold(acc, |acc, (k, v)| match table.matches(&k) {
            Some(m) => rows(acc, k, v, m, 0),
            None => acc,
        })
    }

    #[allow(clippy::type_complexity)] // the row type of an outer join, spelled out
    fn drain_unmatched(&mut self) -> Option<(K, (Option<V>, Option<W>))> {
        if !self.keep_right {
            return None;
        }
        let rest = self.unmatched.get_or_insert_with(|| {
            let mut matched = self.matched.take().unwrap_or_default();
            std::mem::take(&mut self.table)
                .into_values()
                .filter(|(k, _)| matched.get_mut(k).is_none())
                .collect::<Vec<_>>()
                .into_iter()
        });
        rest.next().map(|(k, w)| (k, (None, Some(w))))
    }
}

impl<K: Hash + Eq + Clone + 'static, V: Clone, W: Clone> Iterator for OuterJoin<K, V, W> {
    type Item = (K, (Option<V>, Option<W>));

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((k, v, i)) = &mut self.current {
                if let Some(m) = self.table.matches(k) {
                    if let Some(matched) = &mut self.matched {
                        matched.upsert(k.clone(), |_| ());
                    }
                    let len = m.len();
                    if *i < len {
                        let w = m.get(*i).clone();
                        *i += 1;
                        if *i < len {
                            return Some((k.clone(), (Some(v.clone()), Some(w))));
                        }
                        // The last match takes the left record instead of a copy.
                        if let Some((k, v, _)) = self.current.take() {
                            return Some((k, (Some(v), Some(w))));
                        }
                    }
                }
                self.current = None;
                continue;
            }
            let Some((k, v)) = self.left.next() else {
                return self.drain_unmatched();
            };
            match self.table.matches(&k) {
                // One match (the common case): one lookup, no copies.
                Some(m) if m.rest.is_empty() => {
                    let w = m.first.clone();
                    if let Some(matched) = &mut self.matched {
                        matched.upsert(k.clone(), |_| ());
                    }
                    return Some((k, (Some(v), Some(w))));
                }
                Some(_) => self.current = Some((k, v, 0)),
                None if self.keep_left => return Some((k, (Some(v), None))),
                None => {}
            }
        }
    }
}

/// One partition of a join: `(key, (left, right))` for every match; with
/// `keep_left`, unmatched left records with `None`; with `keep_right`,
/// unmatched right records. A hash join when the right side fits in the
/// task's share of the budget, else a join of each key's cogrouped values.
#[allow(clippy::large_enum_variant)] // the common case, not boxed: no indirection per row
pub(crate) enum JoinPartition<K, V, W> {
    Hash(OuterJoin<K, V, W>),
    #[allow(clippy::type_complexity)] // the row type of an outer join, spelled out
    Grouped(BoxIter<(K, (Option<V>, Option<W>))>),
}

impl<K: Key, V: Data, W: Data> JoinPartition<K, V, W> {
    pub(crate) fn new(
        left: BoxIter<(K, V)>,
        right: BoxIter<(K, W)>,
        keep_left: bool,
        keep_right: bool,
    ) -> Self {
        let task = current_task();
        if task.budget().limit() == u64::MAX {
            let table = Build::new(right);
            return JoinPartition::Hash(OuterJoin::new(left, table, None, keep_left, keep_right));
        }
        let mut metered = Metered::new(right, task.reserve("join", true));
        let table = Build::new(&mut metered);
        let (rest, reservation, refused) = metered.into_parts();
        if !refused {
            let join = OuterJoin::new(left, table, Some(reservation), keep_left, keep_right);
            return JoinPartition::Hash(join);
        }
        log::debug!(
            "join: a build side over {} does not fit, joining by key with spilling",
            crate::memory::bytes(reservation.size())
        );
        drop(reservation);
        let right = BoxIter::new(table.into_values().chain(rest));
        let groups = cogroup_within_budget(left, right, "join");
        JoinPartition::Grouped(BoxIter::new(
            groups.flat_map(move |(k, (vs, ws))| key_rows(k, vs, ws, keep_left, keep_right)),
        ))
    }

    /// The rows of an inner join, folded (see [`OuterJoin::fold_matches`]).
    pub(crate) fn fold_matches<B>(self, init: B, mut g: impl FnMut(B, (K, (V, W))) -> B) -> B {
        match self {
            JoinPartition::Hash(join) => join.fold_matches(init, g),
            JoinPartition::Grouped(rows) => rows.fold(init, |acc, row| match row {
                (k, (Some(v), Some(w))) => g(acc, (k, (v, w))),
                _ => acc,
            }),
        }
    }
}

impl<K: Key, V: Data, W: Data> Iterator for JoinPartition<K, V, W> {
    type Item = (K, (Option<V>, Option<W>));

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            JoinPartition::Hash(join) => join.next(),
            JoinPartition::Grouped(rows) => rows.next(),
        }
    }
}

/// One key's rows of a join from its values on each side: every pair, or
/// the kept side's values alone when the other has none.
#[allow(clippy::type_complexity)] // the row type of an outer join, spelled out
fn key_rows<K: Data, V: Data, W: Data>(
    k: K,
    vs: Vec<V>,
    ws: Vec<W>,
    keep_left: bool,
    keep_right: bool,
) -> Box<dyn Iterator<Item = (K, (Option<V>, Option<W>))> + Send> {
    match (vs.is_empty(), ws.is_empty()) {
        (false, false) => Box::new(vs.into_iter().flat_map(move |v| {
            let k = k.clone();
            ws.clone()
                .into_iter()
                .map(move |w| (k.clone(), (Some(v.clone()), Some(w))))
        })),
        (false, true) if keep_left => {
            Box::new(vs.into_iter().map(move |v| (k.clone(), (Some(v), None))))
        }
        (true, false) if keep_right => {
            Box::new(ws.into_iter().map(move |w| (k.clone(), (None, Some(w)))))
        }
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::spill_merge::tests::as_task;
    use crate::spill::file::tests::Scratch;

    type Row = (u32, (Option<String>, Option<u64>));

    /// Every row of the join, by a nested loop over both sides.
    fn model(
        left: &[(u32, String)],
        right: &[(u32, u64)],
        keep_left: bool,
        keep_right: bool,
    ) -> Vec<Row> {
        let mut rows = Vec::new();
        for (k, v) in left {
            let matches: Vec<_> = right.iter().filter(|(rk, _)| rk == k).collect();
            rows.extend(
                matches
                    .iter()
                    .map(|(_, w)| (*k, (Some(v.clone()), Some(*w)))),
            );
            if matches.is_empty() && keep_left {
                rows.push((*k, (Some(v.clone()), None)));
            }
        }
        for (k, w) in right {
            if keep_right && !left.iter().any(|(lk, _)| lk == k) {
                rows.push((*k, (None, Some(*w))));
            }
        }
        rows.sort();
        rows
    }

    #[test]
    fn a_build_side_over_the_budget_joins_by_key_with_spilling_and_equals_the_model() {
        let dir = Scratch::new("join");
        // Skewed, with keys on one side only: key 0 is hot on both sides.
        let left: Vec<(u32, String)> = (0..3000u32)
            .map(|i| (if i % 10 == 0 { 0 } else { i % 1500 }, format!("l{i}")))
            .collect();
        let right: Vec<(u32, u64)> = (0..40_000u64)
            .map(|i| {
                (
                    if i % 1000 == 0 {
                        0
                    } else {
                        (i % 2000 + 1000) as u32
                    },
                    i,
                )
            })
            .collect();
        for (keep_left, keep_right) in [(false, false), (true, false), (false, true), (true, true)]
        {
            let expected = model(&left, &right, keep_left, keep_right);
            for budget in [u64::MAX, 256 << 10] {
                let (mut rows, error, task) = as_task(budget, &dir, || {
                    JoinPartition::new(
                        BoxIter::new(left.clone().into_iter()),
                        BoxIter::new(right.clone().into_iter()),
                        keep_left,
                        keep_right,
                    )
                    .collect::<Vec<_>>()
                });
                rows.sort();
                assert_eq!(error, None);
                assert_eq!(
                    rows.len(),
                    expected.len(),
                    "{keep_left} {keep_right} {budget}"
                );
                assert!(rows == expected, "{keep_left} {keep_right} {budget}");
                let spilled = task.metrics().spilled_bytes > 0;
                assert_eq!(
                    spilled,
                    budget != u64::MAX,
                    "{keep_left} {keep_right} {budget}"
                );
            }
            // An inner join's rows, folded, are the same.
            if !keep_left && !keep_right {
                let (mut rows, _, _) = as_task(256 << 10, &dir, || {
                    JoinPartition::new(
                        BoxIter::new(left.clone().into_iter()),
                        BoxIter::new(right.clone().into_iter()),
                        false,
                        false,
                    )
                    .fold_matches(Vec::new(), |mut rows, (k, (v, w))| {
                        rows.push((k, (Some(v), Some(w))));
                        rows
                    })
                });
                rows.sort();
                assert!(rows == expected);
            }
        }
    }
}
