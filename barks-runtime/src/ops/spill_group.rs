//! Grouping by key within the memory budget: `group_by_key`'s groups, a
//! `cogroup`'s, and a join's build side.
//!
//! Records are grouped in memory the fast way ([`group_values`]: a
//! counting sort, each group allocated once) while their estimated size
//! fits the task's share of the budget, reserved ahead every
//! [`CHECK_EVERY`] records from a sampled record's encoded size. When the
//! reservation is refused, grouping in memory stops: the groups made so
//! far and the records still to come go, as lists, through the spilling
//! merge of the aggregations ([`merge_by_key`]), which spills them split
//! by key hash and merges each part alone. As in Spark's `groupByKey`, one
//! key's group must fit in memory; a bigger one is a clear error naming the
//! operator and the budget.
//!
//! A cogroup merges both sides' groups, as pairs of lists, with the same
//! spilling merge. A join whose build side does not fit joins each key's
//! cogrouped values instead of probing a hash table: the spilling merge
//! writes both sides split by key hash and joins one part at a time, a
//! grace hash join.

use crate::agg::grouping::group_values;
use crate::data::{Data, Key};
use crate::memory::{Reservation, current_task};
use crate::ops::spill_merge::merge_by_key;
use crate::records::BoxIter;
use crate::records::codec::encoded_len;

/// How many records grouping takes between two reservations.
const CHECK_EVERY: u64 = 1024;

/// `records` grouped by key within the running task's budget (see the
/// [module docs](self)); `operator` names the operator in errors.
pub(crate) fn group_within_budget<K: Key, V: Data>(
    records: BoxIter<(K, V)>,
    operator: &'static str,
) -> BoxIter<(K, Vec<V>)> {
    let task = current_task();
    if task.budget().limit() == u64::MAX {
        return BoxIter::new(group_values(records));
    }
    let mut metered = Metered::new(records, task.reserve(operator, true));
    let groups: Vec<(K, Vec<V>)> = group_values(&mut metered).collect();
    let (records, reservation, refused) = metered.into_parts();
    if !refused {
        return BoxIter::new(Held {
            groups: groups.into_iter(),
            _reservation: reservation,
        });
    }
    log::debug!(
        "{operator}: {} of groups over the share of the budget, merging with spilling",
        crate::memory::bytes(reservation.size())
    );
    // The merge reserves what it holds itself.
    drop(reservation);
    let lists = groups.into_iter().chain(records.map(|(k, v)| (k, vec![v])));
    BoxIter::new(merge_by_key(
        BoxIter::new(lists),
        |mut a: Vec<V>, b| {
            a.extend(b);
            a
        },
        operator,
    ))
}

/// Each key with its values on either side.
pub(crate) type Cogroups<K, V, W> = BoxIter<(K, (Vec<V>, Vec<W>))>;

/// Both sides' groups merged by key as pairs of lists within the running
/// task's budget, spilling when they do not fit. The right side is
/// grouped once the left's groups are in the merge.
pub(crate) fn cogroup_within_budget<K: Key, V: Data, W: Data>(
    left: BoxIter<(K, V)>,
    right: BoxIter<(K, W)>,
    operator: &'static str,
) -> Cogroups<K, V, W> {
    let left = group_within_budget(left, operator).map(|(k, vs)| (k, (vs, Vec::new())));
    let right = std::iter::once(right)
        .flat_map(move |r| group_within_budget(r, operator).map(|(k, ws)| (k, (Vec::new(), ws))));
    BoxIter::new(merge_by_key(
        BoxIter::new(left.chain(right)),
        |(mut vs, mut ws): (Vec<V>, Vec<W>), (more_vs, more_ws)| {
            vs.extend(more_vs);
            ws.extend(more_ws);
            (vs, ws)
        },
        operator,
    ))
}

/// The records, stopping (as if they ended) when the reservation for the
/// next [`CHECK_EVERY`] of them is refused: whoever takes them in memory
/// stays within the share, and [`into_parts`](Self::into_parts) hands
/// back the rest.
pub(crate) struct Metered<K, V> {
    records: BoxIter<(K, V)>,
    reservation: Reservation,
    /// Records taken so far.
    taken: u64,
    /// Estimated bytes per record grouped: the record, its place in the
    /// group, and what it points to.
    per_record: u64,
    refused: bool,
}

impl<K, V> Metered<K, V> {
    pub(crate) fn new(records: BoxIter<(K, V)>, reservation: Reservation) -> Self {
        Metered {
            records,
            reservation,
            taken: 0,
            per_record: 0,
            refused: false,
        }
    }

    /// The records not taken, the reservation for those taken, and
    /// whether it was refused (else the records ended).
    pub(crate) fn into_parts(self) -> (BoxIter<(K, V)>, Reservation, bool) {
        (self.records, self.reservation, self.refused)
    }
}

impl<K: Key, V: Data> Iterator for Metered<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        if self.refused {
            return None;
        }
        let record = self.records.next()?;
        if self.taken.is_multiple_of(CHECK_EVERY) {
            let heap = encoded_len(&record, "a record").unwrap_or(0);
            let inline = 2 * std::mem::size_of::<(K, V)>() as u64;
            self.per_record = if self.taken == 0 {
                inline + heap
            } else {
                (self.per_record * 3 + inline + heap) / 4
            };
            let want = (self.taken + CHECK_EVERY) * self.per_record;
            self.refused = self.reservation.try_resize(want).is_err();
        }
        self.taken += 1;
        Some(record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.refused {
            (0, Some(0))
        } else {
            (self.records.size_hint().0, None)
        }
    }
}

/// Groups that fit, holding their reservation until they are read.
struct Held<K, V> {
    groups: std::vec::IntoIter<(K, Vec<V>)>,
    _reservation: Reservation,
}

impl<K, V> Iterator for Held<K, V> {
    type Item = (K, Vec<V>);

    fn next(&mut self) -> Option<(K, Vec<V>)> {
        self.groups.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.groups.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::spill_merge::tests::as_task;
    use crate::spill::file::tests::Scratch;
    use std::collections::BTreeMap;

    /// Groups `records` as a task with a budget of `budget` bytes: the
    /// groups (values sorted), the task's error, and bytes spilled.
    fn group(
        budget: u64,
        records: Vec<(u32, String)>,
    ) -> (BTreeMap<u32, Vec<String>>, Option<String>, u64) {
        let dir = Scratch::new("spill-group");
        let (groups, error, task) = as_task(budget, &dir, || {
            let mut groups = BTreeMap::new();
            let records = BoxIter::new(records.into_iter());
            for (k, mut vs) in group_within_budget(records, "grouping") {
                vs.sort();
                assert!(groups.insert(k, vs).is_none(), "key {k} came out twice");
            }
            groups
        });
        (groups, error, task.metrics().spilled_bytes)
    }

    fn model(records: &[(u32, String)]) -> BTreeMap<u32, Vec<String>> {
        let mut groups: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (k, v) in records {
            groups.entry(*k).or_default().push(v.clone());
        }
        groups.values_mut().for_each(|vs| vs.sort());
        groups
    }

    #[test]
    fn groups_over_the_budget_spill_and_equal_the_model() {
        // Skewed: a third on one key, the rest spread over sparse keys.
        let records: Vec<(u32, String)> = (0..60_000u32)
            .map(|i| {
                let k = if i % 3 == 0 {
                    7
                } else {
                    (i * 7919) % 20_011 * 1000
                };
                (k, format!("v{i}"))
            })
            .collect();
        let (roomy, error, spilled) = group(u64::MAX, records.clone());
        assert_eq!((error, spilled), (None, 0));
        assert_eq!(roomy, model(&records));
        let (small, error, spilled) = group(2 << 20, records.clone());
        assert_eq!(error, None);
        assert!(spilled > 0, "a 2 MiB budget spills");
        assert_eq!(small, roomy);
        let (empty, error, _) = group(16 << 10, Vec::new());
        assert_eq!((empty.len(), error), (0, None));
    }

    #[test]
    fn a_group_bigger_than_the_budget_is_a_clear_error() {
        let records: Vec<(u32, String)> = (0..100_000).map(|i| (1, format!("{i}"))).collect();
        let (_, error, _) = group(64 << 10, records);
        let error = error.expect("the group does not fit");
        assert!(
            error.contains("grouping") && error.contains("64.0 KiB execution memory budget"),
            "{error}"
        );
    }
}
