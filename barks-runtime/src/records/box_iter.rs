//! [`BoxIter`]: how operators hand a partition's records to each other.
//!
//! Every node yields its partition as one type-erased iterator, because the
//! lineage graph is built at run time. Erasing it record by record (a
//! `Box<dyn Iterator>`) costs a dynamic call and a move out of a return slot
//! per record at every node boundary, and it keeps rustc from inlining the
//! consumer's loop (a `fold`, a shuffle writer) into the producer's.
//!
//! A `BoxIter` erases the producer **chunk by chunk** instead: one dynamic
//! call fills a small buffer (a few hundred records, at most
//! [`CHUNK_BYTES`]) in a statically typed loop, and the consumer takes
//! records out of the buffer with an inlined `next` or a `fold` over the
//! whole chunk. The buffer is one `Vec` reused for every chunk, so chunking
//! allocates nothing per chunk. Sources that already hold whole batches hand
//! them over without a copy ([`BoxIter::from_chunks`]).
//!
//! Laziness is kept where it matters: the first refill asks for one record
//! and every refill doubles, so `first()` or `take(n)` pulls at most about
//! `2n` records from each node, and a source is never polled again after it
//! ended.
//!
//! ```
//! use barks_runtime::BoxIter;
//!
//! let evens = BoxIter::new((0..10).filter(|x| x % 2 == 0));
//! assert_eq!(evens.map(|x| x * 10).sum::<i32>(), 200);
//!
//! let batches = BoxIter::from_chunks(vec![vec![1, 2], vec![], vec![3]].into_iter());
//! assert_eq!(batches.collect::<Vec<_>>(), [1, 2, 3]);
//! ```

use std::mem::size_of;

/// A refill asks for at most this many bytes of records (an L1 cache's worth).
pub const CHUNK_BYTES: usize = 32 * 1024;
/// ... and at most this many records (for small or zero-sized records).
const CHUNK_RECORDS: usize = 1024;

/// An owned iterator over one partition's records, type-erased and pulled
/// in chunks (see the [module docs](self)).
pub struct BoxIter<T> {
    /// Records pulled and not yet handed out.
    buf: Buffer<T>,
    pull: Pull<T>,
    /// How many records the next refill of a record-wise producer asks for.
    want: usize,
}

/// Where a [`BoxIter`] refills its buffer from.
enum Pull<T> {
    Records(Box<dyn Fill<T> + Send>),
    Chunks(Box<dyn Iterator<Item = Vec<T>> + Send>),
    Done,
}

/// A record-wise producer, filled from in one dynamic call per chunk.
trait Fill<T> {
    /// Appends up to `max` records to `out`; fewer means the producer ended.
    fn fill(&mut self, out: &mut Vec<T>, max: usize);
    /// The producer's [`Iterator::size_hint`].
    fn remaining(&self) -> (usize, Option<usize>);
}

impl<I: Iterator> Fill<I::Item> for I {
    fn fill(&mut self, out: &mut Vec<I::Item>, max: usize) {
        out.reserve(max);
        // Internal iteration (`try_fold` under `take`): adapters such as
        // `flat_map` run their inner loops directly instead of re-checking
        // their state for every record. Records are written straight into
        // the reserved space (a `push` would check the capacity each time).
        let (start, slots) = (out.len(), out.spare_capacity_mut().as_mut_ptr());
        let written = self.by_ref().take(max).fold(0, |n, record| {
            // SAFETY: `take(max)` yields at most `max` records and `max`
            // slots are reserved past `start`.
            unsafe { (*slots.add(n)).write(record) };
            n + 1
        });
        // SAFETY: the first `written` spare slots were just initialized. (A
        // panicking producer leaks the records written, never drops one twice.)
        unsafe { out.set_len(start + written) };
    }

    fn remaining(&self) -> (usize, Option<usize>) {
        self.size_hint()
    }
}

impl<T> BoxIter<T> {
    /// The records of `records`, pulled a chunk at a time.
    pub fn new(records: impl Iterator<Item = T> + Send + 'static) -> BoxIter<T> {
        Self::pulling(Pull::Records(Box::new(records)))
    }

    /// The records of `chunks`, in order, each chunk handed out without a
    /// copy (for sources that decode whole batches). Empty chunks are
    /// skipped.
    pub fn from_chunks(chunks: impl Iterator<Item = Vec<T>> + Send + 'static) -> BoxIter<T> {
        Self::pulling(Pull::Chunks(Box::new(chunks)))
    }

    /// No records.
    pub fn empty() -> BoxIter<T> {
        Self::pulling(Pull::Done)
    }

    fn pulling(pull: Pull<T>) -> BoxIter<T> {
        BoxIter {
            buf: Buffer::default(),
            pull,
            want: 1,
        }
    }

    /// All the records, in order, in one `Vec`, pulled a whole chunk at a
    /// time (`collect` would take them out one by one).
    pub fn into_vec(mut self) -> Vec<T> {
        if self.buf.is_empty() && !self.refill() {
            return Vec::new();
        }
        // The buffer becomes the result, so a source's whole chunk is
        // handed over without a copy.
        let mut out = self.buf.take_all();
        out.reserve(self.size_hint().0);
        self.for_each(|record| out.push(record));
        out
    }

    /// The next chunk of records (those buffered, else the producer's next
    /// chunk), or `None` once every record was taken: for a consumer that
    /// checks something between chunks (its memory budget) rather than
    /// per record.
    pub fn next_chunk(&mut self) -> Option<impl Iterator<Item = T> + '_> {
        if self.buf.is_empty() && !self.refill() {
            return None;
        }
        let buf = &mut self.buf;
        Some(std::iter::from_fn(move || buf.pop()))
    }

    /// The most records one refill asks for.
    fn max_chunk() -> usize {
        (CHUNK_BYTES / size_of::<T>().max(1)).clamp(1, CHUNK_RECORDS)
    }

    /// Fills the (empty) buffer with the producer's next records;
    /// `false` once the producer has ended.
    #[inline(never)]
    fn refill(&mut self) -> bool {
        match &mut self.pull {
            Pull::Records(producer) => {
                let want = self.want;
                producer.fill(self.buf.emptied(), want);
                if self.buf.len() < want {
                    self.pull = Pull::Done;
                }
                self.want = (want * 2).min(Self::max_chunk());
                !self.buf.is_empty()
            }
            Pull::Chunks(chunks) => {
                for chunk in chunks.by_ref() {
                    if !chunk.is_empty() {
                        self.buf.replace(chunk);
                        return true;
                    }
                }
                self.pull = Pull::Done;
                false
            }
            Pull::Done => false,
        }
    }
}

/// A [`BoxIter`]'s buffer: the records of `items[taken..]` are not handed
/// out yet; those before `taken` were moved out (the `Vec` still counts
/// them until it is emptied for the next refill). Cheaper than a
/// `VecDeque`: handing out a record is a compare, a read and an increment.
struct Buffer<T> {
    items: Vec<T>,
    taken: usize,
}

impl<T> Default for Buffer<T> {
    fn default() -> Self {
        Buffer {
            items: Vec::new(),
            taken: 0,
        }
    }
}

impl<T> Buffer<T> {
    fn len(&self) -> usize {
        self.items.len() - self.taken
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        if self.taken == self.items.len() {
            return None;
        }
        // SAFETY: `taken < len`, so the slot holds a record not moved out
        // yet; advancing `taken` hands its ownership to the caller.
        let record = unsafe { std::ptr::read(self.items.as_ptr().add(self.taken)) };
        self.taken += 1;
        Some(record)
    }

    /// Drops the records not handed out and returns the empty `Vec`, its
    /// allocation kept, for the next refill.
    fn emptied(&mut self) -> &mut Vec<T> {
        let (len, taken) = (self.items.len(), std::mem::take(&mut self.taken));
        // SAFETY: the length is set to 0 first, so the records are dropped
        // at most once even if a drop panics; `taken..len` are the records
        // not moved out.
        unsafe {
            self.items.set_len(0);
            let rest = self.items.as_mut_ptr().add(taken);
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(rest, len - taken));
        }
        &mut self.items
    }

    /// The records not handed out yet, leaving the buffer empty.
    fn take_all(&mut self) -> Vec<T> {
        let mut items = std::mem::take(&mut self.items);
        let taken = std::mem::take(&mut self.taken);
        if taken > 0 {
            // SAFETY: `items[..taken]` were moved out (read) and must not be
            // dropped; the rest are live. Moving the live ones to the front
            // and setting the length to their count owns each exactly once.
            unsafe {
                let live = items.len() - taken;
                let base = items.as_mut_ptr();
                std::ptr::copy(base.add(taken), base, live);
                items.set_len(live);
            }
        }
        items
    }

    /// Replaces the records by `chunk`.
    fn replace(&mut self, chunk: Vec<T>) {
        self.emptied();
        self.items = chunk;
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        self.emptied();
    }
}

impl<T> Iterator for BoxIter<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(record) = self.buf.pop() {
                return Some(record);
            }
            if !self.refill() {
                return None;
            }
        }
    }

    /// Exact when the producer's is (so `collect` allocates once).
    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.buf.len();
        let (low, high) = match &self.pull {
            Pull::Records(producer) => producer.remaining(),
            Pull::Chunks(chunks) if chunks.size_hint().1 == Some(0) => (0, Some(0)),
            Pull::Chunks(_) => (0, None),
            Pull::Done => (0, Some(0)),
        };
        (
            buffered.saturating_add(low),
            high.and_then(|h| h.checked_add(buffered)),
        )
    }

    /// A whole chunk at a time, so the consumer's closure runs in a tight
    /// statically typed loop.
    fn fold<B, F: FnMut(B, T) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        loop {
            while let Some(record) = self.buf.pop() {
                acc = f(acc, record);
            }
            if !self.refill() {
                return acc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    // `next` and `fold` are exercised by hand on purpose: they are the two
    // paths a consumer takes out of a `BoxIter`.
    #[allow(clippy::while_let_on_iterator, clippy::unnecessary_fold)]
    fn yields_every_record_in_order_through_next_and_fold() {
        for n in [0, 1, 2, 3, 1000, 5000] {
            let expected: Vec<u64> = (0..n).collect();
            assert_eq!(BoxIter::new(0..n).collect::<Vec<_>>(), expected);
            let mut by_next = Vec::new();
            let mut it = BoxIter::new(0..n);
            while let Some(x) = it.next() {
                by_next.push(x);
            }
            assert_eq!(by_next, expected);
            let by_fold = BoxIter::new(0..n).fold(Vec::new(), |mut v, x| {
                v.push(x);
                v
            });
            assert_eq!(by_fold, expected);
        }
    }

    #[test]
    #[allow(clippy::unnecessary_fold)] // `fold` is the path under test
    fn mixing_next_and_fold_loses_nothing() {
        let mut it = BoxIter::new(0..100u32);
        let head: Vec<u32> = it.by_ref().take(7).collect();
        assert_eq!(head, (0..7).collect::<Vec<_>>());
        assert_eq!(it.fold(0, |a, x| a + x), (7..100).sum());
    }

    #[test]
    fn take_pulls_at_most_about_twice_what_it_needs() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let it = BoxIter::new((0..1_000_000).inspect(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
        assert_eq!(it.take(1).collect::<Vec<_>>(), [0]);
        assert_eq!(pulled.load(Ordering::Relaxed), 1);

        let counter = pulled.clone();
        pulled.store(0, Ordering::Relaxed);
        let it = BoxIter::new((0..1_000_000).inspect(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
        assert_eq!(it.take(100).count(), 100);
        assert!(pulled.load(Ordering::Relaxed) <= 2 * 100);
    }

    #[test]
    fn never_polls_a_producer_after_it_ended() {
        let polls_after_end = Arc::new(AtomicUsize::new(0));
        let seen = polls_after_end.clone();
        let mut done = false;
        let mut i = 0;
        let mut it = BoxIter::new(std::iter::from_fn(move || {
            if done {
                seen.fetch_add(1, Ordering::Relaxed);
                return Some(99);
            }
            i += 1;
            if i > 5 {
                done = true;
                return None;
            }
            Some(i)
        }));
        assert_eq!(it.by_ref().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(it.next(), None);
        assert_eq!(polls_after_end.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn records_not_handed_out_are_dropped_once() {
        let token = Arc::new(());
        for taken in [0, 1, 10, 700, 3000] {
            let t = token.clone();
            let mut it = BoxIter::new((0..3000).map(move |_| t.clone()));
            let out: Vec<Arc<()>> = it.by_ref().take(taken).collect();
            assert_eq!(out.len(), taken);
            drop((it, out));
            assert_eq!(Arc::strong_count(&token), 1, "after taking {taken}");
            let chunks = vec![vec![token.clone(), token.clone()], vec![token.clone()]];
            let mut it = BoxIter::from_chunks(chunks.into_iter());
            let out: Vec<Arc<()>> = it.by_ref().take(taken.min(2)).collect();
            drop((it, out));
            assert_eq!(Arc::strong_count(&token), 1);
        }
    }

    #[test]
    fn into_vec_keeps_what_was_not_taken_yet() {
        for n in [0, 1, 2, 5, 1000, 5000] {
            for skip in [0, 1, 3] {
                let mut it = BoxIter::new((0..n).map(|x| x.to_string()));
                let head: Vec<String> = it.by_ref().take(skip).collect();
                let mut all = head;
                all.extend(it.into_vec());
                assert_eq!(all, (0..n).map(|x| x.to_string()).collect::<Vec<_>>());
            }
        }
        let chunk = vec!["a".to_string(), "b".into(), "c".into()];
        let mut it = BoxIter::from_chunks(vec![chunk.clone(), chunk].into_iter());
        assert_eq!(it.next().as_deref(), Some("a"));
        assert_eq!(it.into_vec(), ["b", "c", "a", "b", "c"]);
    }

    #[test]
    fn chunks_are_handed_out_in_order_skipping_empty_ones() {
        let chunks = vec![
            vec![],
            vec!["a".to_string()],
            vec![],
            vec!["b".into(), "c".into()],
        ];
        let it = BoxIter::from_chunks(chunks.into_iter());
        assert_eq!(it.collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(BoxIter::<u8>::empty().next(), None);
        assert_eq!(BoxIter::<u8>::empty().size_hint(), (0, Some(0)));
    }

    #[test]
    fn size_hints_are_exact_when_the_producer_s_are() {
        let mut it = BoxIter::new((0..5000u32).map(|x| x + 1));
        assert_eq!(it.size_hint(), (5000, Some(5000)));
        it.next();
        assert_eq!(it.size_hint(), (4999, Some(4999)));
        let mut it = BoxIter::new((0..5000u32).filter(|x| x % 2 == 0));
        it.next();
        assert_eq!(it.size_hint(), (0, Some(4999)));
        let mut it = BoxIter::from_chunks(std::iter::once(vec![1, 2, 3]));
        assert_eq!(it.size_hint(), (0, None));
        it.next();
        assert_eq!(it.size_hint(), (2, Some(2)));
    }

    #[test]
    fn chunk_size_is_bounded_by_bytes_and_records() {
        assert_eq!(BoxIter::<[u8; 4096]>::max_chunk(), 8);
        assert_eq!(BoxIter::<[u8; 1 << 20]>::max_chunk(), 1);
        assert_eq!(BoxIter::<u8>::max_chunk(), CHUNK_RECORDS);
        assert_eq!(BoxIter::<()>::max_chunk(), CHUNK_RECORDS);
    }
}
