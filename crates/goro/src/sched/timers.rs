//! The timer heap: one per worker, and one for the timer thread that serves plain OS threads.
//!
//! An entry is (deadline, arming order, what to do). A worker's heap sits behind a mutex in
//! its shared half (`WorkerShared::timers`), with its earliest deadline published beside it
//! (`next_timer`): the worker arms entries and fires due ones at every tick (the look at the
//! published deadline is one relaxed load), and an idle worker sleeps on its futex no longer
//! than the earliest deadline. The lock is uncontended but for one case: a worker that has
//! run one goroutine past a deadline cannot get to its heap, and the monitor fires the
//! overdue entries for it (`monitor::fire_overdue`), so deadlines
//! hold whoever is busy. What an entry does:
//!
//! * [`Fire::Wake`]: unpark a goroutine of this worker (`sleep`, a channel operation or a
//!   `select` with a deadline). The worker fires these itself, on its own thread.
//! * [`Fire::Call`]: anything else, behind the [`Due`] trait, implemented where the thing
//!   fired lives: `time` (sending the time on a channel for `after` and `tick`, and `Timer`
//!   and `Ticker`) and `context` (a deadline). The heap names none of their types, so the
//!   scheduler depends on neither.
//!
//! # Cancelling
//!
//! Entries are never searched for and removed. Each carries a generation that the owner bumps
//! to cancel it (a goroutine's `timer_gen` once it is awake; a timer's `gen` on `stop` and
//! `reset`), or refers weakly to what it would fire. A stale entry does nothing when it comes
//! due, and [`Timers::push`] compacts the heap, dropping every stale entry, whenever it has
//! grown to twice its size after the last compaction (and at least 64): a loop that arms a
//! long timeout and finishes early on every turn keeps the heap at most about twice the number
//! of live timers, at O(1) amortised cost per push. (Go 1.23 counts stale timers and cleans
//! when they pass a quarter of the heap; same idea.)
//!
//! # Shape
//!
//! A 4-ary min-heap in a `Vec`, as Go's runtime uses per P: half the depth of a binary heap,
//! and the four children of a node sit in one or two cache lines, so a sift-down touches fewer
//! lines. See docs/bench-journal.md for the measurement against `std`'s binary heap.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::goroutine::GoroutineHeader;

/// What a due timer does.
pub(crate) enum Fire {
    /// Unpark a goroutine if its `timer_gen` still equals `gen`.
    Wake { g: Arc<GoroutineHeader>, gen: u8 },
    /// Fire something another module armed.
    Call(Box<dyn Due>),
}

/// A timer entry that the module which armed it knows how to fire.
pub(crate) trait Due: Send {
    /// True if firing would do nothing (what it fires is gone, or it was cancelled): the
    /// heap may drop it unfired.
    fn is_stale(&self) -> bool;

    /// Fires the entry, due at `when`, with the time `now`; returns it with the deadline to
    /// arm it again at (a ticker's next tick), or `None` when it is done.
    fn fire(self: Box<Self>, when: Instant, now: Instant) -> Option<(Instant, Box<dyn Due>)>;
}

impl Fire {
    /// True if firing would do nothing.
    fn is_stale(&self) -> bool {
        match self {
            Fire::Wake { g, gen } => g.timer_gen.load(Ordering::Relaxed) != *gen,
            Fire::Call(d) => d.is_stale(),
        }
    }

    /// Fires a `Call` entry that was due at `when`; returns the entry to arm again (a
    /// ticker's next tick).
    pub(crate) fn fire(self, when: Instant, now: Instant) -> Option<(Instant, Fire)> {
        match self {
            Fire::Call(d) => d.fire(when, now).map(|(t, d)| (t, Fire::Call(d))),
            // Workers handle their own wake-ups; none is ever armed anywhere else.
            Fire::Wake { .. } => None,
        }
    }
}

struct Entry {
    when: Instant,
    seq: u64,
    fire: Fire,
}

impl Entry {
    fn key(&self) -> (Instant, u64) {
        (self.when, self.seq)
    }
}

/// Compaction never runs below this many entries.
const COMPACT_MIN: usize = 64;

/// A 4-ary min-heap of timers, ordered by deadline then arming order.
pub(crate) struct Timers {
    heap: Vec<Entry>,
    seq: u64,
    /// Compact when the heap reaches this length.
    compact_at: usize,
    /// The time the last entry popped by [`Timers::pop_due_stamped`] fires with.
    fired_at: Option<Instant>,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            heap: Vec::new(),
            seq: 0,
            compact_at: COMPACT_MIN,
            fired_at: None,
        }
    }
}

impl Timers {
    pub(crate) fn push(&mut self, when: Instant, fire: Fire) {
        if self.heap.len() >= self.compact_at {
            self.compact();
        }
        self.seq += 1;
        self.heap.push(Entry {
            when,
            seq: self.seq,
            fire,
        });
        self.sift_up(self.heap.len() - 1);
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.first().map(|e| e.when)
    }

    /// The next timer whose deadline is at or before `now`, with its deadline.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Fire)> {
        if self.next()? > now {
            return None;
        }
        let last = self.heap.pop()?;
        let top = if self.heap.is_empty() {
            last
        } else {
            let top = std::mem::replace(&mut self.heap[0], last);
            self.sift_down(0);
            top
        };
        Some((top.when, top.fire))
    }

    /// Like [`pop_due`](Self::pop_due), with the time to fire the entry with: `now`, or the
    /// time the entry popped before it fired with, if that is later. A worker's heap is
    /// fired by its owner and, when the owner is stuck, by the monitor, each with its own
    /// reading of the clock; entries leave the heap in deadline order, and their times must
    /// keep that order (a `time::after` value is the time it fired).
    pub(crate) fn pop_due_stamped(&mut self, now: Instant) -> Option<(Instant, Fire, Instant)> {
        let (when, fire) = self.pop_due(now)?;
        let at = self.fired_at.map_or(now, |t| t.max(now));
        self.fired_at = Some(at);
        Some((when, fire, at))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    #[cfg(all(test, not(loom)))]
    fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
    }

    /// Drops every stale entry and restores the heap order.
    fn compact(&mut self) {
        self.heap.retain(|e| !e.fire.is_stale());
        let n = self.heap.len();
        if n > 1 {
            for i in (0..=(n - 2) / 4).rev() {
                self.sift_down(i);
            }
        }
        self.compact_at = (2 * n).max(COMPACT_MIN);
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.heap[i].key() >= self.heap[parent].key() {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut min = first;
            for c in first + 1..(first + 4).min(n) {
                if self.heap[c].key() < self.heap[min].key() {
                    min = c;
                }
            }
            if self.heap[min].key() >= self.heap[i].key() {
                break;
            }
            self.heap.swap(i, min);
            i = min;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::chan::chan;
    use std::time::Duration;

    fn send_entry(tx: crate::chan::Sender<Instant>) -> Fire {
        crate::time::send_entry(tx, None)
    }

    /// Two threads fire one heap (its worker, and the monitor when the worker is stuck), each
    /// with its own reading of the clock: a later deadline popped with an earlier reading
    /// still fires with a time no earlier than the entry popped before it.
    #[test]
    fn popped_entries_fire_with_times_in_deadline_order() {
        let base = Instant::now();
        let mut t = Timers::default();
        let (tx, _rx) = chan::<Instant>(2);
        t.push(base + Duration::from_millis(1), send_entry(tx.clone()));
        t.push(base + Duration::from_millis(2), send_entry(tx));
        let late = base + Duration::from_millis(10);
        let early = base + Duration::from_millis(5);
        let (_, _, first) = t.pop_due_stamped(late).unwrap();
        let (when, _, second) = t.pop_due_stamped(early).unwrap();
        assert_eq!(first, late);
        assert!(
            second >= first && second >= when,
            "{second:?} before {first:?}"
        );
    }

    #[test]
    fn pops_in_deadline_then_arming_order() {
        let base = Instant::now();
        let mut t = Timers::default();
        let (tx, _rx) = chan::<Instant>(1000);
        // A fixed shuffle of 0..500 with repeats, so equal deadlines test the arming order.
        let mut x = 12345u64;
        let mut want = Vec::new();
        for i in 0..1000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ms = x % 500;
            want.push((ms, i));
            t.push(base + Duration::from_millis(ms), send_entry(tx.clone()));
        }
        want.sort();
        let mut got = Vec::new();
        let end = base + Duration::from_secs(1);
        while let Some((when, _)) = t.pop_due(end) {
            got.push(when);
        }
        let want: Vec<Instant> = want
            .iter()
            .map(|&(ms, _)| base + Duration::from_millis(ms))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn compaction_keeps_the_heap_near_its_live_size() {
        let base = Instant::now() + Duration::from_secs(3600);
        let mut t = Timers::default();
        let (tx, rx) = chan::<Instant>(1);
        for i in 0..10_000 {
            // Each receiver is dropped at once: the entry is stale as soon as it is pushed.
            let (dead_tx, dead_rx) = chan::<Instant>(1);
            drop(dead_rx);
            t.push(base + Duration::from_millis(i), send_entry(dead_tx));
        }
        assert!(t.len() <= COMPACT_MIN, "stale entries kept: {}", t.len());
        t.push(base, send_entry(tx));
        assert!(
            t.pop_due(base).is_some(),
            "the live entry survives compaction"
        );
        drop(rx);
    }
}
