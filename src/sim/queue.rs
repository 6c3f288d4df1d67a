//! The pending-event queue: a min-heap keyed by `(time, seq)`.
//!
//! **Ordering guarantee.** Events pop in increasing time; events scheduled
//! for the *same* time pop in the order they were pushed (FIFO). `seq` is a
//! counter bumped on every [`EventQueue::push`], so the key `(time, seq)` is
//! unique and the order never depends on `BinaryHeap` internals. This is what
//! makes a run reproducible: two timeline items at `t = 10s` always run in
//! file order, and an event scheduled by a handler at `now` runs after the
//! events that were already waiting at `now`.
//!
//! **Cancellation is lazy.** [`EventQueue::cancel`] only marks the key dead;
//! the entry stays in the heap and is dropped when it reaches the head
//! (by `pop` or `peek_time`). The queue compacts itself when dead entries
//! outnumber live ones, so mass cancellation cannot grow the heap unboundedly.
//!
//! The queue holds no clock. Refusing events in the past (`at < now`) is the
//! engine's job, which owns `now`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::sim::time::SimTime;

/// Identifies one pushed event, for [`EventQueue::cancel`]. Keys are never
/// reused within one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey(u64);

impl EventKey {
    /// The insertion sequence number (0 for the first push).
    pub fn seq(self) -> u64 {
        self.0
    }
}

/// A heap entry. `(time, seq)` is packed into one `u128` (time in the
/// high half), so that comparing two entries is one wide comparison. Its
/// ordering is *reversed* so that `BinaryHeap` (a max-heap) pops the
/// earliest entry first.
#[derive(Debug)]
struct Entry<E> {
    key: u128,
    ev: E,
}

impl<E> Entry<E> {
    fn new(time: SimTime, seq: u64, ev: E) -> Entry<E> {
        Entry {
            key: (u128::from(time.as_nanos()) << 64) | u128::from(seq),
            ev,
        }
    }

    fn time(&self) -> SimTime {
        SimTime::from_nanos((self.key >> 64) as u64)
    }

    fn seq(&self) -> u64 {
        self.key as u64
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// The set of live (pushed, not yet popped or cancelled) sequence numbers,
/// as a bitset over a sliding window of seqs.
///
/// Push, pop and cancel are O(1) with no hashing. Words at the front of the
/// window are dropped as soon as every seq in them is dead, so memory is one
/// bit per event pushed since the oldest still-live event. Knowing liveness
/// exactly lets `cancel` of an already-fired key be a harmless no-op and
/// keeps `len` exact. It is never iterated.
#[derive(Debug, Default)]
struct LiveSet {
    /// The seq of bit 0 of `words[front]`; a multiple of 64.
    base: u64,
    /// The window is `words[front..]`; the words before `front` are dead
    /// and dropped in one move when that frees at least half the vector
    /// (a plain vector indexes with less work than a ring buffer).
    words: Vec<u64>,
    front: usize,
    /// The seq the next push receives.
    next: u64,
}

impl LiveSet {
    /// Allocates the next seq and marks it live.
    #[inline]
    fn insert_next(&mut self) -> u64 {
        let seq = self.next;
        self.next += 1;
        let idx = seq - self.base;
        let mut word = self.front + (idx / 64) as usize;
        if word == self.words.len() {
            if word == self.words.capacity() && 2 * self.front >= word {
                self.words.drain(..self.front);
                word -= self.front;
                self.front = 0;
            }
            self.words.push(0);
        }
        self.words[word] |= 1 << (idx % 64);
        seq
    }

    /// The word holding `seq`, if it is in the window.
    #[inline]
    fn word(&self, seq: u64) -> Option<usize> {
        let idx = seq.checked_sub(self.base)?;
        let word = self.front + usize::try_from(idx / 64).ok()?;
        (word < self.words.len()).then_some(word)
    }

    #[inline]
    fn contains(&self, seq: u64) -> bool {
        match self.word(seq) {
            Some(w) => self.words[w] & (1 << ((seq - self.base) % 64)) != 0,
            None => false,
        }
    }

    /// Marks `seq` dead; returns whether it was live.
    #[inline]
    fn remove(&mut self, seq: u64) -> bool {
        let Some(word) = self.word(seq) else {
            return false;
        };
        let bit = 1 << ((seq - self.base) % 64);
        let w = &mut self.words[word];
        if *w & bit == 0 {
            return false;
        }
        *w &= !bit;
        if *w == 0 && word == self.front {
            self.trim();
        }
        true
    }

    /// Drops leading all-dead words whose seqs have all been handed out.
    fn trim(&mut self) {
        while self.words.get(self.front) == Some(&0) && self.base + 64 <= self.next {
            self.front += 1;
            self.base += 64;
        }
        if self.front == self.words.len() {
            self.words.clear();
            self.front = 0;
        }
    }

    /// Words in the window (for the memory test).
    #[cfg(test)]
    fn window(&self) -> usize {
        self.words.len() - self.front
    }
}

/// A priority queue of events ordered by `(time, insertion order)`.
///
/// Events at equal times pop in insertion order (FIFO); see the module
/// documentation.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    live: LiveSet,
    /// Live events (the heap also holds cancelled ones).
    len: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// Below this heap size the queue never compacts: skipping a few dead
    /// entries at the head is cheaper than rebuilding.
    const COMPACT_MIN: usize = 1024;

    /// An empty queue. It starts with room for a small run's events: a
    /// run always schedules some, and the first doublings cost more than
    /// this one allocation.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(64),
            live: LiveSet::default(),
            len: 0,
        }
    }

    /// An empty queue with room for `cap` events before reallocating.
    pub fn with_capacity(cap: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(cap),
            live: LiveSet::default(),
            len: 0,
        }
    }

    /// Schedules `ev` at `at`. Among events with equal `at`, this one pops
    /// after every event pushed before it and before every event pushed
    /// after it.
    #[inline]
    pub fn push(&mut self, at: SimTime, ev: E) -> EventKey {
        let seq = self.live.insert_next();
        self.heap.push(Entry::new(at, seq, ev));
        self.len += 1;
        EventKey(seq)
    }

    /// Cancels a pending event. Returns `true` if it was pending; cancelling
    /// an event that already popped or was already cancelled does nothing
    /// and returns `false`.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        if !self.live.remove(key.0) {
            return false;
        }
        self.len -= 1;
        let dead = self.heap.len() - self.len;
        if dead > self.len && self.heap.len() >= Self::COMPACT_MIN {
            // Keys are unique, so rebuilding cannot change the pop order.
            let live = &self.live;
            self.heap.retain(|e| live.contains(e.seq()));
        }
        true
    }

    /// Removes and returns the earliest live event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(e) = self.heap.pop() {
            if self.live.remove(e.seq()) {
                self.len -= 1;
                return Some((e.time(), e.ev));
            }
        }
        None
    }

    /// The time of the earliest live event. Takes `&mut self` because it
    /// drops cancelled entries found at the head.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(e) = self.heap.peek() {
            if self.live.contains(e.seq()) {
                return Some(e.time());
            }
            self.heap.pop();
        }
        None
    }

    /// Number of live (pushed, not popped, not cancelled) events.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `key` is still pending.
    pub fn is_pending(&self, key: EventKey) -> bool {
        self.live.contains(key.0)
    }

    /// The live events in pop order, for debugging and tests (allocates and
    /// sorts: O(n log n)).
    pub fn pending(&self) -> Vec<(SimTime, EventKey, &E)> {
        let mut v: Vec<_> = self
            .heap
            .iter()
            .filter(|e| self.live.contains(e.seq()))
            .map(|e| (e.time(), EventKey(e.seq()), &e.ev))
            .collect();
        v.sort_by_key(|&(t, k, _)| (t, k));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    fn drain<E>(q: &mut EventQueue<E>) -> Vec<(SimTime, E)> {
        std::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn empty_queue() {
        let mut q: EventQueue<u32> = EventQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(q.peek_time(), None);
        assert_eq!(q.pop(), None);
        let mut d: EventQueue<u32> = EventQueue::default();
        assert_eq!(d.pop(), None);
    }

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        q.push(t(30), "c");
        q.push(t(10), "a");
        q.push(t(20), "b");
        q.push(t(0), "z");
        assert_eq!(q.len(), 4);
        assert_eq!(
            drain(&mut q),
            vec![(t(0), "z"), (t(10), "a"), (t(20), "b"), (t(30), "c")]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn equal_times_pop_fifo() {
        let mut q = EventQueue::new();
        for i in 0..1000u32 {
            q.push(t(5), i);
        }
        let got: Vec<u32> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn fifo_among_equal_times_when_interleaved() {
        let mut q = EventQueue::new();
        q.push(t(10), "a1");
        q.push(t(5), "x");
        q.push(t(10), "a2");
        q.push(t(u64::MAX), "end");
        q.push(t(10), "a3");
        assert_eq!(q.pop(), Some((t(5), "x")));
        // Pushed after a1..a3 at the same time: pops after them.
        q.push(t(10), "a4");
        let got: Vec<_> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        assert_eq!(got, vec!["a1", "a2", "a3", "a4", "end"]);
    }

    #[test]
    fn keys_are_sequential_and_unique() {
        let mut q = EventQueue::new();
        let k0 = q.push(t(9), ());
        let k1 = q.push(t(1), ());
        q.pop();
        let k2 = q.push(t(1), ());
        assert_eq!((k0.seq(), k1.seq(), k2.seq()), (0, 1, 2));
    }

    #[test]
    fn cancel_skips_event() {
        let mut q = EventQueue::new();
        let a = q.push(t(10), "a");
        let b = q.push(t(20), "b");
        let c = q.push(t(30), "c");
        assert!(q.cancel(b));
        assert_eq!(q.len(), 2);
        assert!(!q.is_pending(b));
        assert!(q.is_pending(a) && q.is_pending(c));
        assert_eq!(drain(&mut q), vec![(t(10), "a"), (t(30), "c")]);
    }

    #[test]
    fn cancel_head_affects_peek_and_pop() {
        let mut q = EventQueue::new();
        let a = q.push(t(10), 'a');
        let b = q.push(t(10), 'b');
        q.push(t(20), 'c');
        assert_eq!(q.peek_time(), Some(t(10)));
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(t(10)));
        q.cancel(b);
        assert_eq!(q.peek_time(), Some(t(20)));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((t(20), 'c')));
        assert_eq!(q.peek_time(), None);
    }

    #[test]
    fn cancel_is_idempotent_and_ignores_fired_events() {
        let mut q = EventQueue::new();
        let a = q.push(t(1), 'a');
        let b = q.push(t(2), 'b');
        assert_eq!(q.pop(), Some((t(1), 'a')));
        // Already fired: no effect on len or on other events.
        assert!(!q.cancel(a));
        assert_eq!(q.len(), 1);
        assert!(q.cancel(b));
        assert!(!q.cancel(b));
        assert_eq!(q.len(), 0);
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        // A key from the future (never issued) is ignored too.
        assert!(!q.cancel(EventKey(1_000_000)));
        let c = q.push(t(3), 'c');
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((t(3), 'c')));
        assert!(!q.is_pending(c));
    }

    #[test]
    fn cancel_everything_then_reuse() {
        let mut q = EventQueue::new();
        let keys: Vec<_> = (0..200).map(|i| q.push(t(i), i)).collect();
        for k in &keys {
            assert!(q.cancel(*k));
        }
        assert!(q.is_empty());
        assert_eq!(q.peek_time(), None);
        q.push(t(7), 7);
        assert_eq!(drain(&mut q), vec![(t(7), 7)]);
    }

    #[test]
    fn mass_cancellation_compacts_heap() {
        let mut q = EventQueue::new();
        let keys: Vec<_> = (0..10_000u64)
            .map(|i| q.push(t(1_000_000 - i), i))
            .collect();
        for k in keys.iter().filter(|k| k.seq() % 10 != 0) {
            q.cancel(*k);
        }
        assert_eq!(q.len(), 1000);
        // Compaction keeps the heap within about twice the live count.
        assert!(q.heap.len() <= 2 * q.len() + 1, "heap {}", q.heap.len());
        let got: Vec<u64> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
        let want: Vec<u64> = (0..10_000u64).rev().filter(|i| i % 10 == 0).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn live_set_window_slides() {
        let mut q = EventQueue::new();
        // A long-lived event pins the window; once it goes, memory is freed.
        let pin = q.push(t(u64::MAX), 0u64);
        for i in 1..=10_000u64 {
            q.push(t(i), i);
            assert_eq!(q.pop(), Some((t(i), i)));
        }
        assert!(q.live.window() >= 10_000 / 64);
        q.cancel(pin);
        assert!(q.live.window() <= 1, "{}", q.live.window());
        for i in 0..500u64 {
            q.push(t(i), i);
            q.pop();
        }
        assert!(q.live.window() <= 1);
        assert!(q.is_empty());
    }

    #[test]
    fn pending_lists_live_events_in_pop_order() {
        let mut q = EventQueue::new();
        q.push(t(20), "b");
        let x = q.push(t(10), "x");
        q.push(t(10), "a");
        q.cancel(x);
        let p: Vec<_> = q.pending().into_iter().map(|(t, _, e)| (t, *e)).collect();
        assert_eq!(p, vec![(t(10), "a"), (t(20), "b")]);
    }

    /// Model check against a sorted Vec under a random mix of operations.
    #[test]
    fn matches_reference_model() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut q = EventQueue::with_capacity(16);
        // Reference: (time, seq, payload), live only.
        let mut model: Vec<(SimTime, u64, u32)> = Vec::new();
        let mut keys: Vec<EventKey> = Vec::new();
        for step in 0..20_000u32 {
            match rng.random_range(0..10) {
                0..=4 => {
                    let t = SimTime::from_nanos(rng.random_range(0..50));
                    let k = q.push(t, step);
                    model.push((t, k.seq(), step));
                    keys.push(k);
                }
                5..=6 => {
                    model.sort();
                    let want = if model.is_empty() {
                        None
                    } else {
                        let (t, _, e) = model.remove(0);
                        Some((t, e))
                    };
                    assert_eq!(q.pop(), want);
                }
                7 => {
                    model.sort();
                    assert_eq!(q.peek_time(), model.first().map(|m| m.0));
                }
                _ => {
                    if !keys.is_empty() {
                        let k = keys[rng.random_range(0..keys.len())];
                        let was = model.iter().position(|m| m.1 == k.seq());
                        if let Some(i) = was {
                            model.remove(i);
                        }
                        assert_eq!(q.cancel(k), was.is_some());
                    }
                }
            }
            assert_eq!(q.len(), model.len());
        }
        model.sort();
        let rest: Vec<_> = model.into_iter().map(|(t, _, e)| (t, e)).collect();
        assert_eq!(drain(&mut q), rest);
    }
}
