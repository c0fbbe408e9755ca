//! `WaitGroup`: wait for a collection of goroutines to finish (Go's `sync.WaitGroup`).
//!
//! # Protocol
//!
//! State: `count` (atomic), `generation` (atomic), and a list of waiting [`Unparker`]s under a
//! mutex.
//!
//! 1. `add(n)` adds to `count`. `done()` subtracts one (AcqRel); the call that brings it to zero
//!    takes the lock, bumps `generation`, takes the whole list, releases the lock and unparks
//!    every waiter.
//! 2. `wait()` returns at once if `count` is zero (Acquire: pairs with the last `done`).
//!    Otherwise it takes the lock, checks `count` again (a `done` that reached zero before
//!    this check has either finished its broadcast, or is blocked on the lock and will see our
//!    entry), records `generation`, pushes its unparker and releases the lock; then it parks
//!    until `generation` has changed. Waiting on the generation, not on `count == 0`, means a
//!    waiter is released by the zero it waited for even if `add` raises the count again
//!    before it runs.

use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_utils::CachePadded;

use crate::wait::park::{park_quiet, Unparker};

struct Inner {
    /// On its own cache line: `done` runs on many threads, while clones of the `Arc` bump the
    /// reference count beside it on the spawner's. (Clones dropped on a worker are released
    /// in batches, `sched::worker::release_later`, so that count stays on the spawner's core.)
    count: CachePadded<AtomicUsize>,
    generation: AtomicU64,
    waiters: Mutex<Vec<Unparker>>,
}

/// Waits for a collection of goroutines (or threads) to finish. Clones share one counter.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// goro::run(|| {
///     let wg = goro::sync::WaitGroup::new();
///     let hits = Arc::new(AtomicUsize::new(0));
///     for _ in 0..100 {
///         wg.add(1);
///         let (wg, hits) = (wg.clone(), hits.clone());
///         goro::go(move || {
///             hits.fetch_add(1, Ordering::Relaxed);
///             wg.done();
///         });
///     }
///     wg.wait();
///     assert_eq!(hits.load(Ordering::Relaxed), 100);
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    /// Dropped through `release_later` (see `Drop`).
    inner: ManuallyDrop<Arc<Inner>>,
}

impl Drop for WaitGroup {
    fn drop(&mut self) {
        // SAFETY: `inner` is taken once, here, and not used again.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        crate::sched::worker::release_later(inner);
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitGroup {
    /// A group with a count of zero.
    pub fn new() -> Self {
        WaitGroup {
            inner: ManuallyDrop::new(Arc::new(Inner {
                count: CachePadded::new(AtomicUsize::new(0)),
                generation: AtomicU64::new(0),
                waiters: Mutex::new(Vec::new()),
            })),
        }
    }

    /// Adds `n` to the count: call it before starting the goroutines that will call `done`.
    pub fn add(&self, n: usize) {
        self.inner.count.fetch_add(n, Ordering::Relaxed);
    }

    /// Starts `f` on a new goroutine counted in the group: `add(1)` now, `done()` when `f`
    /// returns or panics (Go 1.25's `wg.Go`). The goroutine's handle is returned; dropping it
    /// detaches the goroutine as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// goro::run(|| {
    ///     let wg = goro::sync::WaitGroup::new();
    ///     let sum = Arc::new(AtomicUsize::new(0));
    ///     for i in 1..=10 {
    ///         let sum = sum.clone();
    ///         wg.go(move || sum.fetch_add(i, Ordering::Relaxed));
    ///     }
    ///     wg.wait();
    ///     assert_eq!(sum.load(Ordering::Relaxed), 55);
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn go<F, T>(&self, f: F) -> crate::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let done = self.add_guard();
        crate::go(move || {
            let _done = done;
            f()
        })
    }

    /// Adds one to the count and returns a guard that calls [`done`](Self::done) when it is
    /// dropped: Go's `wg.Add(1)` with a `defer wg.Done()` that cannot be forgotten, and runs
    /// while a panic unwinds too. Move it into the goroutine that does the work.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::run(|| {
    ///     let wg = goro::sync::WaitGroup::new();
    ///     for _ in 0..3 {
    ///         let done = wg.add_guard();
    ///         goro::go(move || {
    ///             let _done = done; // `done` on every way out, a panic's included
    ///         });
    ///     }
    ///     wg.wait();
    /// })
    /// .unwrap();
    /// ```
    pub fn add_guard(&self) -> DoneGuard {
        self.add(1);
        DoneGuard(self.clone())
    }

    /// Subtracts one from the count, waking every waiter when it reaches zero.
    ///
    /// # Panics
    ///
    /// If the count is already zero (Go: "sync: negative WaitGroup counter"). That is a bug
    /// in the calling program with no value to hand back; the count stays at zero.
    #[inline]
    pub fn done(&self) {
        match self.inner.count.fetch_sub(1, Ordering::AcqRel) {
            1 => self.release(),
            0 => self.negative(),
            _ => {}
        }
    }

    /// `done` past zero: undoes the wrap-around, then reports the misuse.
    #[cold]
    #[inline(never)]
    fn negative(&self) -> ! {
        self.inner.count.fetch_add(1, Ordering::Relaxed);
        panic!("goro: WaitGroup::done called more times than add (negative WaitGroup counter)");
    }

    /// The count reached zero: wakes the waiters. Out of line, so that `done` inlines.
    #[inline(never)]
    fn release(&self) {
        let waiters = {
            let mut w = self.inner.waiters.lock().unwrap_or_else(|e| e.into_inner());
            self.inner.generation.fetch_add(1, Ordering::Release);
            std::mem::take(&mut *w)
        };
        for u in waiters {
            u.unpark();
        }
    }

    /// Blocks the calling goroutine (or thread) until the count is zero.
    pub fn wait(&self) {
        if self.count() == 0 {
            return;
        }
        let gen = {
            let mut w = self.inner.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if self.count() == 0 {
                return;
            }
            w.push(Unparker::current());
            self.inner.generation.load(Ordering::Relaxed)
        };
        crate::wait::reason::set_on(
            crate::wait::reason::WaitReason::WaitGroupWait,
            Arc::as_ptr(&*self.inner) as usize,
        );
        while self.inner.generation.load(Ordering::Acquire) == gen {
            park_quiet();
        }
    }

    /// The current count.
    pub fn count(&self) -> usize {
        self.inner.count.load(Ordering::Acquire)
    }
}

/// Calls [`WaitGroup::done`] once, when dropped (see [`WaitGroup::add_guard`]).
#[must_use = "dropping the guard at once calls `done` at once"]
#[derive(Debug)]
pub struct DoneGuard(WaitGroup);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        self.0.done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_from_threads_and_goroutines() {
        crate::Runtime::builder()
            .workers(2)
            .run(|| {
                let wg = WaitGroup::new();
                wg.add(3);
                let h = crate::Handle::current().unwrap();
                let t = {
                    let wg = wg.clone();
                    std::thread::spawn(move || wg.wait())
                };
                let g = {
                    let wg = wg.clone();
                    h.go(move || wg.wait())
                };
                for _ in 0..3 {
                    let wg = wg.clone();
                    crate::go(move || wg.done());
                }
                wg.wait();
                g.join().unwrap();
                t.join().unwrap();
                assert_eq!(wg.count(), 0);
            })
            .unwrap();
    }

    /// Clones dropped on a worker are held back and released together (see
    /// `sched::worker::release_later`): when the worker runs out of work, when it holds too
    /// many, or when another object's reference comes along.
    #[test]
    fn clones_dropped_on_a_worker_are_released_in_batches() {
        let wg = WaitGroup::new();
        let weak = Arc::downgrade(&*wg.inner);
        let refs = move || weak.strong_count();
        let other = WaitGroup::new();
        let (wg2, refs2) = (wg.clone(), refs.clone());
        crate::Runtime::builder()
            .workers(1)
            .run(move || {
                let clones: Vec<_> = (0..10).map(|_| wg2.clone()).collect();
                assert_eq!(refs2(), 12);
                drop(clones);
                assert_eq!(refs2(), 12, "released at once");
                // Running out of work releases them.
                crate::time::sleep(std::time::Duration::from_millis(1));
                assert_eq!(refs2(), 2);
                // At most RELEASE_BATCH are held.
                let clones: Vec<_> = (0..200).map(|_| wg2.clone()).collect();
                drop(clones);
                let most = 2 + crate::sched::worker::RELEASE_BATCH as usize;
                assert!((2..=most).contains(&refs2()), "{}", refs2());
                // A reference to another object releases them.
                drop(other.clone());
                assert_eq!(refs2(), 2);
                // The last reference, dropped in a goroutine, is released when it ends.
                crate::go(move || drop(wg2)).join().unwrap();
            })
            .unwrap();
        assert_eq!(refs(), 1);
        // On a plain thread, at once.
        drop(wg.clone());
        assert_eq!(refs(), 1);
        drop(wg);
        assert_eq!(refs(), 0);
    }

    /// A goroutine still holding a clone at shutdown is unwound; its clone is released too.
    #[test]
    fn clones_of_goroutines_unwound_at_shutdown_are_released() {
        let wg = WaitGroup::new();
        let weak = Arc::downgrade(&*wg.inner);
        crate::Runtime::builder()
            .workers(2)
            .exit_report(false)
            .run(move || {
                for _ in 0..10 {
                    let wg = wg.clone();
                    crate::go(move || {
                        let _wg = wg;
                        crate::wait::park::park_quiet();
                    });
                }
                crate::yield_now();
            })
            .unwrap();
        assert_eq!(weak.strong_count(), 0);
    }

    #[test]
    fn done_below_zero_panics_and_keeps_zero() {
        let wg = WaitGroup::new();
        let r = std::panic::catch_unwind(|| wg.done());
        assert!(r.is_err());
        assert_eq!(wg.count(), 0);
    }
}
