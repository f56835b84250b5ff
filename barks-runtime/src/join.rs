//! Joining two co-partitioned datasets partition by partition: a hash table
//! is built from the right side's partition and the left side streams
//! through it.

use crate::build;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::key_table::KeyTable;
use crate::node::{AnyNode, Dep, Node, TaskContext};
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
        id: build::next_id(),
        left: left.node.clone(),
        right: right.node.clone(),
        f,
        _out: PhantomData,
    };
    let mut out = Dataset::from_node(Arc::new(node));
    out.hash_partitions = left.hash_partitions;
    out
}

/// The right values of one key: the first inline, so a key with one value
/// (the common case) costs no allocation, and the rest behind one pointer,
/// so the table stays small (16 bytes a key for an 8-byte value; whether a
/// key was matched is kept apart, by the joins that need it).
struct Matches<W> {
    first: W,
    #[allow(clippy::box_collection)] // 8 bytes in the table instead of a `Vec`'s 24
    rest: Option<Box<Vec<W>>>,
}

impl<W> Matches<W> {
    fn len(&self) -> usize {
        1 + self.rest.as_ref().map_or(0, |rest| rest.len())
    }

    /// The `i`-th value (`i < len()`).
    fn get(&self, i: usize) -> &W {
        match i.checked_sub(1) {
            None => &self.first,
            Some(j) => &self.rest.as_deref().map_or(&[][..], Vec::as_slice)[j],
        }
    }

    fn into_values(self) -> impl Iterator<Item = W> {
        std::iter::once(self.first).chain(self.rest.into_iter().flat_map(|rest| *rest))
    }
}

/// The general hash join of one partition: `(key, (left, right))` for every
/// match; with `keep_left`, unmatched left records with `None`; with
/// `keep_right`, unmatched right records (after the left side ends).
pub(crate) struct OuterJoin<K, V, W> {
    table: KeyTable<K, Matches<W>>,
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
    pub(crate) fn new(
        left: BoxIter<(K, V)>,
        right: BoxIter<(K, W)>,
        keep_left: bool,
        keep_right: bool,
    ) -> Self {
        let mut table = KeyTable::default();
        table.expect(right.size_hint().0);
        right.for_each(|(k, w)| {
            table.upsert(k, |m: Option<Matches<W>>| match m {
                Some(mut m) => {
                    m.rest.get_or_insert_default().push(w);
                    m
                }
                None => Matches {
                    first: w,
                    rest: None,
                },
            });
        });
        OuterJoin {
            table,
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
        let mut rows = |mut acc, k: K, v: V, m: &Matches<W>, from: usize| {
            // Each match but the last gets copies; the last takes the record.
            for i in from..m.len() - 1 {
                acc = g(acc, (k.clone(), (v.clone(), m.get(i).clone())));
            }
            g(acc, (k, (v, m.get(m.len() - 1).clone())))
        };
        let mut acc = init;
        // The rest of a left record's matches, if `next` stopped among them.
        if let Some((k, v, from)) = current {
            match table.get_mut(&k) {
                Some(m) if from < m.len() => acc = rows(acc, k, v, m, from),
                _ => {}
            }
        }
        left.fold(acc, |acc, (k, v)| match table.get_mut(&k) {
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
                .into_iter()
                .filter(|(k, _)| matched.get_mut(k).is_none())
                .flat_map(|(k, m)| m.into_values().map(move |w| (k.clone(), w)))
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
                if let Some(m) = self.table.get_mut(k) {
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
            match self.table.get_mut(&k) {
                // One match (the common case): one lookup, no copies.
                Some(m) if m.rest.is_none() => {
                    if let Some(matched) = &mut self.matched {
                        matched.upsert(k.clone(), |_| ());
                    }
                    let w = m.first.clone();
                    return Some((k, (Some(v), Some(w))));
                }
                Some(_) => self.current = Some((k, v, 0)),
                None if self.keep_left => return Some((k, (Some(v), None))),
                None => {}
            }
        }
    }
}
