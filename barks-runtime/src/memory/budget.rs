//! [`MemoryBudget`]: one process's execution memory, shared by the running
//! operators the way DataFusion's `FairSpillPool` shares its pool, and
//! [`Reservation`]: one operator's share of it.
//!
//! Consumers are *spillable* (an aggregation table, a sort buffer, held
//! shuffle outputs: they can move data to disk) or not (memory that must be
//! there for the task to go on: a merge's cursors). A spillable consumer
//! may hold at most its fair share: the budget, less an eighth kept free
//! for unspillable memory ([`HEADROOM`]) and less what unspillable
//! consumers hold, divided by the number of spillable consumers registered.
//! (Without the headroom, spillers at their shares fill the budget and a
//! merge that must not spill cannot get a byte.) When it would go over,
//! [`Reservation::try_grow`] refuses and the operator spills; an operator
//! that still cannot grow after spilling fails with
//! [`Reservation::exhausted`], which names the operator and the budget.
//! Nothing waits for memory, so nothing can hang on it.
//!
//! Accounting is per batch or per table growth, never per record: one
//! uncontended lock per call.
//!
//! ```
//! use barks_runtime::memory::MemoryBudget;
//!
//! let budget = MemoryBudget::new(1600);
//! let mut sort = budget.reservation("sort_by_key", true);
//! let mut aggregate = budget.reservation("reduce_by_key", true);
//! assert!(sort.try_grow(700).is_ok());
//! // Two spillable consumers: each may hold half of the 1400 bytes left
//! // after the headroom.
//! assert!(sort.try_grow(1).is_err());
//! assert!(aggregate.try_grow(600).is_ok());
//! drop(sort);
//! // Alone now, the aggregation may use them all.
//! assert!(aggregate.try_grow(800).is_ok());
//! assert_eq!(budget.reserved(), 1400);
//! ```

use super::task::Usage;
use crate::error::Error;
use std::sync::{Arc, Mutex};

/// The share of the budget spillable consumers leave free, for memory that
/// cannot spill: an eighth.
pub const HEADROOM: u64 = 8;

/// One process's execution memory budget (see the [module docs](self)).
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Spillable consumers registered.
    spillers: u64,
    /// Bytes held by spillable and by unspillable consumers.
    spillable: u64,
    unspillable: u64,
}

/// Why a reservation could not grow: what it held, wanted and was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Bytes the reservation holds.
    pub held: u64,
    /// Bytes it asked for on top.
    pub wanted: u64,
    /// Bytes it may hold in all right now.
    pub allowed: u64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            limit,
            state: Mutex::default(),
        })
    }

    /// A budget no reservation ever goes over.
    pub fn unlimited() -> Arc<MemoryBudget> {
        MemoryBudget::new(u64::MAX)
    }

    /// The budget in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The bytes reserved now, by all consumers.
    pub fn reserved(&self) -> u64 {
        let state = self.lock();
        state.spillable.saturating_add(state.unspillable)
    }

    /// A new consumer's reservation, holding nothing yet. `operator` names
    /// it in errors; `spillable` says whether it can give memory back by
    /// spilling.
    pub fn reservation(
        self: &Arc<Self>,
        operator: impl Into<String>,
        spillable: bool,
    ) -> Reservation {
        self.register(spillable);
        Reservation {
            budget: self.clone(),
            operator: operator.into(),
            spillable,
            size: 0,
            usage: None,
        }
    }

    // The raw interface, for pools of other engines (DataFusion's
    // `MemoryPool`) that keep their reservations' sizes themselves.

    /// Counts a new consumer.
    pub fn register(&self, spillable: bool) {
        if spillable {
            self.lock().spillers += 1;
        }
    }

    /// Forgets a consumer, which must hold nothing any more.
    pub fn unregister(&self, spillable: bool) {
        if spillable {
            let mut state = self.lock();
            state.spillers = state.spillers.saturating_sub(1);
        }
    }

    /// Takes `additional` bytes whatever the budget says (memory that is
    /// already allocated).
    pub fn grow(&self, spillable: bool, additional: u64) {
        let mut state = self.lock();
        let held = state.held(spillable);
        *held = held.saturating_add(additional);
    }

    /// Gives back `bytes`.
    pub fn shrink(&self, spillable: bool, bytes: u64) {
        let mut state = self.lock();
        let held = state.held(spillable);
        *held = held.saturating_sub(bytes);
    }

    /// Takes `additional` bytes for a consumer that holds `held` now, if
    /// its share allows.
    pub fn try_grow(&self, spillable: bool, held: u64, additional: u64) -> Result<(), Refused> {
        self.take(spillable, held, additional, false)
    }

    /// The rule of [`try_grow`](Self::try_grow). Spillers' shares are
    /// computed one consumer at a time, so spillers that registered one
    /// after another may together hold more than their part for a while;
    /// an unspillable consumer's room counts them at most at their part,
    /// so the headroom stays its own. `keep_headroom` is for memory that is
    /// unspillable once taken but could be done without (held shuffle
    /// outputs, which are spilled instead when refused): it may not take
    /// the headroom.
    fn take(
        &self,
        spillable: bool,
        held: u64,
        additional: u64,
        keep_headroom: bool,
    ) -> Result<(), Refused> {
        let mut state = self.lock();
        let headroom = self.limit / HEADROOM;
        let (allowed, fits) = if spillable {
            let for_spillers = (self.limit - headroom).saturating_sub(state.unspillable);
            let share = for_spillers / state.spillers.max(1);
            (share, held.saturating_add(additional) <= share)
        } else {
            let spillers = state.spillable.min(self.limit - headroom);
            let ceiling = if keep_headroom {
                self.limit - headroom
            } else {
                self.limit
            };
            let free = ceiling.saturating_sub(state.unspillable.saturating_add(spillers));
            (held.saturating_add(free), additional <= free)
        };
        if !fits {
            return Err(Refused {
                held,
                wanted: additional,
                allowed,
            });
        }
        let held = state.held(spillable);
        *held = held.saturating_add(additional);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn held(&mut self, spillable: bool) -> &mut u64 {
        if spillable {
            &mut self.spillable
        } else {
            &mut self.unspillable
        }
    }
}

/// One consumer's share of a [`MemoryBudget`]; what it holds goes back to
/// the budget when it is dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    operator: String,
    spillable: bool,
    size: u64,
    /// The task whose metrics count this reservation.
    usage: Option<Arc<Usage>>,
}

impl Reservation {
    /// This reservation, counted in a task's usage as well.
    pub(crate) fn counted_in(mut self, usage: Arc<Usage>) -> Reservation {
        self.usage = Some(usage);
        self
    }

    /// The bytes held.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The operator this reservation is for.
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// The budget it is part of.
    pub fn budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }

    /// Takes `additional` bytes more if the budget allows; if not, the
    /// caller spills (or, having nothing left to spill, fails with
    /// [`exhausted`](Self::exhausted)).
    pub fn try_grow(&mut self, additional: u64) -> Result<(), Refused> {
        self.take(additional, false)
    }

    /// Takes `additional` bytes more if the budget allows without touching
    /// the [`HEADROOM`]: for unspillable memory the consumer could do
    /// without, keeping it on disk instead when refused.
    pub fn try_grow_leaving_headroom(&mut self, additional: u64) -> Result<(), Refused> {
        self.take(additional, true)
    }

    fn take(&mut self, additional: u64, keep_headroom: bool) -> Result<(), Refused> {
        self.budget
            .take(self.spillable, self.size, additional, keep_headroom)?;
        self.size += additional;
        if let Some(usage) = &self.usage {
            usage.grew(additional);
        }
        Ok(())
    }

    /// Takes `additional` bytes whatever the budget says: for memory that
    /// is already in use and cannot be given back.
    pub fn grow(&mut self, additional: u64) {
        self.budget.grow(self.spillable, additional);
        self.size = self.size.saturating_add(additional);
        if let Some(usage) = &self.usage {
            usage.grew(additional);
        }
    }

    /// Gives back up to `bytes`.
    pub fn shrink(&mut self, bytes: u64) {
        let bytes = bytes.min(self.size);
        self.budget.shrink(self.spillable, bytes);
        self.size -= bytes;
        if let Some(usage) = &self.usage {
            usage.shrank(bytes);
        }
    }

    /// Holds exactly `size` bytes, growing if the budget allows.
    pub fn try_resize(&mut self, size: u64) -> Result<(), Refused> {
        if size >= self.size {
            self.try_grow(size - self.size)
        } else {
            self.shrink(self.size - size);
            Ok(())
        }
    }

    /// Gives everything back.
    pub fn free(&mut self) {
        self.shrink(self.size);
    }

    /// The error of an operator that cannot go on within the budget, even
    /// after spilling everything it could.
    pub fn exhausted(&self, refused: Refused) -> Error {
        Error::Memory {
            operator: self.operator.clone(),
            message: format!(
                "needs {} more while holding {}, but its share of the {} execution memory budget is {} even after spilling; raise the budget (--memory, BARKS_MEMORY or Context::with_memory) or use more partitions so that each holds less",
                bytes(refused.wanted),
                bytes(refused.held),
                bytes(self.budget.limit),
                bytes(refused.allowed),
            ),
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.free();
        self.budget.unregister(self.spillable);
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn bytes(n: u64) -> String {
    if n == u64::MAX {
        return "unlimited".into();
    }
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spillers_share_what_unspillable_consumers_and_the_headroom_leave() {
        let budget = MemoryBudget::new(1600);
        let mut pinned = budget.reservation("results", false);
        pinned.try_grow(200).unwrap();
        let mut a = budget.reservation("a", true);
        let mut b = budget.reservation("b", true);
        // (1600 - 200 headroom - 200 unspillable) / 2.
        assert_eq!(
            a.try_grow(601),
            Err(Refused {
                held: 0,
                wanted: 601,
                allowed: 600
            })
        );
        a.try_grow(600).unwrap();
        b.try_grow(300).unwrap();
        // Unspillable consumers take what is free, headroom included.
        assert!(pinned.try_grow(501).is_err());
        pinned.try_grow(500).unwrap();
        assert_eq!(budget.reserved(), 1600);
        // `grow` takes what is already in use, even over the budget.
        pinned.grow(100);
        assert_eq!(budget.reserved(), 1700);
        b.free();
        // Each spiller may hold (1600 - 200 - 800 unspillable) / 2.
        b.try_grow(300).unwrap();
        assert!(b.try_grow(1).is_err());
        drop(a);
        b.try_resize(600).unwrap();
        assert!(b.try_resize(601).is_err());
        b.try_resize(10).unwrap();
        assert_eq!(budget.reserved(), 810);
        drop((pinned, b));
        assert_eq!(budget.reserved(), 0);
        assert_eq!(budget.lock().spillers, 0);
    }

    #[test]
    fn the_headroom_stays_for_unspillable_memory_whatever_spillers_hold() {
        let budget = MemoryBudget::new(1600);
        // A spiller alone takes all of its part; a second one registers
        // and takes its half share: together they hold more than their
        // part until the first is refused and spills.
        let mut first = budget.reservation("first", true);
        first.try_grow(1400).unwrap();
        let mut second = budget.reservation("second", true);
        second.try_grow(700).unwrap();
        assert!(first.try_grow(1).is_err());
        // A merge that cannot spill still finds the headroom.
        let mut merge = budget.reservation("merge", false);
        merge.try_grow(200).unwrap();
        assert_eq!(merge.try_grow(1).unwrap_err().allowed, 200);
        drop(merge);
        drop((first, second));
        // Held shuffle outputs, which could be spilled instead, leave it.
        let mut outputs = budget.reservation("outputs", false);
        outputs.try_grow_leaving_headroom(1000).unwrap();
        let mut spiller = budget.reservation("spiller", true);
        spiller.try_grow(400).unwrap();
        assert!(outputs.try_grow_leaving_headroom(1).is_err());
        let mut merge = budget.reservation("merge", false);
        merge.try_grow(200).unwrap();
        assert_eq!(budget.reserved(), 1600);
    }

    #[test]
    fn an_exhausted_reservation_names_its_operator_and_the_budget() {
        let budget = MemoryBudget::new(4 << 10);
        let mut r = budget.reservation("group_by_key", true);
        let refused = r.try_grow(5 << 10).unwrap_err();
        assert_eq!(refused.allowed, 3584, "4 KiB less the headroom");
        let err = r.exhausted(refused).to_string();
        assert!(
            err.contains("group_by_key")
                && err.contains("needs 5.0 KiB more")
                && err.contains("4.0 KiB execution memory budget")
                && err.contains("BARKS_MEMORY"),
            "{err}"
        );
    }

    #[test]
    fn byte_counts_print_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(2 << 30), "2.0 GiB");
        assert_eq!(bytes(u64::MAX), "unlimited");
    }
}
