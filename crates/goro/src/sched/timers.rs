//! The per-worker timer heap behind `goro::time::sleep`, timeouts, and `time::after`.
//!
//! Each worker keeps a binary min-heap of (deadline, sequence, what to do) for the goroutines
//! that sleep or wait with a deadline on it, and for `after` timers armed there (a callback
//! that sends the time on the timer's channel). Only the worker's own thread touches it (a sleeping goroutine is on its
//! home worker when it arms the timer), so it needs no lock. The worker loop fires due timers
//! each tick, and an idle worker sleeps on its futex no longer than the earliest deadline.
//! Firing unparks the goroutine; if it was woken for another reason meanwhile, the unpark is a
//! harmless spurious wake-up (sleepers re-check the clock).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Instant;

use super::goroutine::Goroutine;

/// What a due timer does.
pub(crate) enum Fire {
    /// Unpark a goroutine (`sleep`, a deadline).
    Wake(Arc<Goroutine>),
    /// Run a short callback on the worker (`after`: a non-blocking send).
    Call(Box<dyn FnOnce() + Send>),
}

struct Entry {
    when: Instant,
    seq: u64,
    fire: Fire,
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
    pub(crate) fn push(&mut self, when: Instant, fire: Fire) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            when,
            seq: self.seq,
            fire,
        }));
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.0.when)
    }

    /// The next timer whose deadline is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Fire> {
        if self.next()? <= now {
            self.heap.pop().map(|e| e.0.fire)
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
