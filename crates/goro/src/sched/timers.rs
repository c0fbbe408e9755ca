//! The per-worker timer heap behind `goro::time::sleep`.
//!
//! Each worker keeps a binary min-heap of (deadline, sequence, goroutine) for the goroutines
//! that sleep on it. Only the worker's own thread touches it (a sleeping goroutine is on its
//! home worker when it arms the timer), so it needs no lock. The worker loop fires due timers
//! each tick, and an idle worker sleeps on its futex no longer than the earliest deadline.
//! Firing unparks the goroutine; if it was woken for another reason meanwhile, the unpark is a
//! harmless spurious wake-up (sleepers re-check the clock).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Instant;

use super::goroutine::Goroutine;

struct Entry {
    when: Instant,
    seq: u64,
    g: Arc<Goroutine>,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.when, self.seq) == (o.when, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.when, self.seq).cmp(&(o.when, o.seq))
    }
}

/// A min-heap of sleeping goroutines, ordered by deadline then arming order.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Timers {
    pub(crate) fn push(&mut self, when: Instant, g: Arc<Goroutine>) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            when,
            seq: self.seq,
            g,
        }));
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.0.when)
    }

    /// The next goroutine whose deadline is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Arc<Goroutine>> {
        if self.next()? <= now {
            self.heap.pop().map(|e| e.0.g)
        } else {
            None
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
    }
}
