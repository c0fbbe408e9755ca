//! `Cond`: wait for a condition guarded by a [`Mutex`] (Go's `sync.Cond`).
//!
//! # Protocol
//!
//! Go's notify list, on a [`WaitList`]: `wait` takes a ticket (`tickets`, atomic) while it
//! still holds the mutex, unlocks, and waits unless `notified` has passed its ticket.
//! `notify_one` moves `notified` on by one (if any ticket is outstanding) and wakes the first
//! linked waiter; `notify_all` moves it to `tickets` and wakes them all. A waiter that took
//! its ticket but has not linked yet sees `notified` past it and does not wait: no
//! notification is lost between unlocking the mutex and parking. A notification may release a
//! waiter that took its ticket later than another: as in Go, wake-ups can be spurious, so wait
//! in a loop that re-checks the condition.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::mutex::{Mutex, MutexGuard};
use crate::wait::list::{Wait, WaitList};

/// A condition variable for goroutines and threads.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use goro::sync::{Cond, Mutex};
/// goro::run(|| {
///     let pair = Arc::new((Mutex::new(false), Cond::new()));
///     let p = pair.clone();
///     goro::go(move || {
///         *p.0.lock() = true;
///         p.1.notify_one();
///     });
///     let (ready, cond) = &*pair;
///     let mut g = ready.lock();
///     while !*g {
///         g = cond.wait(g);
///     }
/// })
/// .unwrap();
/// ```
pub struct Cond {
    tickets: AtomicU64,
    /// Written under the list's lock.
    notified: AtomicU64,
    waiters: WaitList,
}

impl Default for Cond {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tickets.load(Ordering::Relaxed);
        let n = self.notified.load(Ordering::Relaxed);
        f.debug_struct("Cond")
            .field("waiting", &t.saturating_sub(n))
            .finish()
    }
}

impl Cond {
    /// A condition variable nobody waits on.
    pub fn new() -> Self {
        Cond {
            tickets: AtomicU64::new(0),
            notified: AtomicU64::new(0),
            waiters: WaitList::default(),
        }
    }

    /// Unlocks the guard's mutex, waits for a notification, and locks it again.
    #[doc(alias = "Wait")]
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_inner(guard, None).0
    }

    /// Like [`wait`](Self::wait), but gives up after `timeout`; the flag is true if it timed
    /// out.
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let deadline = crate::time::timer::deadline_after(timeout);
        self.wait_inner(guard, Some(deadline))
    }

    fn wait_inner<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, T>, bool) {
        let m: &'a Mutex<T> = guard.mutex();
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        drop(guard);
        let r = self.waiters.wait(
            crate::wait::reason::WaitReason::CondWait,
            0,
            false,
            deadline,
            |_| self.notified.load(Ordering::Relaxed) > ticket,
        );
        (m.lock(), r == Wait::TimedOut)
    }

    /// Wakes one waiter, if any (Go's `Signal`).
    #[doc(alias = "Signal")]
    pub fn notify_one(&self) {
        self.waiters.wake(|w| {
            let n = self.notified.load(Ordering::Relaxed);
            if n < self.tickets.load(Ordering::Relaxed) {
                self.notified.store(n + 1, Ordering::Relaxed);
                w.pop_any(0);
            }
        });
    }

    /// Wakes every waiter (Go's `Broadcast`).
    #[doc(alias = "Broadcast")]
    pub fn notify_all(&self) {
        self.waiters.wake(|w| {
            self.notified
                .store(self.tickets.load(Ordering::Relaxed), Ordering::Relaxed);
            while w.pop_any(0).is_some() {}
        });
    }
}
