//! `Semaphore`: a weighted semaphore (golang.org/x/sync/semaphore).
//!
//! # Protocol
//!
//! `avail` (atomic) is what is left of the size. Waiters queue FIFO in a [`WaitList`], each
//! tagged with the weight it wants, and a waiter at the head blocks those behind it even if
//! they would fit (no starvation of large requests, as in x/sync).
//!
//! 1. `acquire(n)` takes `n` with a compare-and-swap while nobody is queued (`QUEUED` clear)
//!    and `n` fits. Otherwise, under the list's lock, it tries again and else queues, setting
//!    `QUEUED`.
//! 2. `release(n)` adds `n` back. If `QUEUED` is set it then, under the list's lock, grants the
//!    head waiters in order while their weight fits, subtracting it for them, and clears
//!    `QUEUED` when no record is left. A granted waiter returns holding its weight.
//! 3. A waiter whose deadline passes withdraws; if it was granted meanwhile it keeps the grant.
//!
//! `QUEUED` is the top bit of `avail`: the fast path tests and updates both in one CAS.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::wait::list::{Wait, WaitList};

const QUEUED: u64 = 1 << 63;

/// A request larger than the semaphore could ever grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// What was asked for.
    pub wanted: u64,
    /// The semaphore's size.
    pub size: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a weight of {} can never be acquired from a semaphore of size {}",
            self.wanted, self.size
        )
    }
}

impl std::error::Error for TooLarge {}

/// A semaphore of `size` units; goroutines acquire and release weights, FIFO.
///
/// # Examples
///
/// At most two of ten goroutines run at once:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// goro::run(|| {
///     let sem = Arc::new(goro::sync::Semaphore::new(2));
///     let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
///     let hs: Vec<_> = (0..10)
///         .map(|_| {
///             let (sem, now, most) = (sem.clone(), now.clone(), most.clone());
///             goro::go(move || {
///                 sem.acquire(1).unwrap();
///                 let n = now.fetch_add(1, Ordering::SeqCst) + 1;
///                 most.fetch_max(n, Ordering::SeqCst);
///                 goro::time::sleep(std::time::Duration::from_millis(1));
///                 now.fetch_sub(1, Ordering::SeqCst);
///                 sem.release(1);
///             })
///         })
///         .collect();
///     for h in hs {
///         h.join().unwrap();
///     }
///     assert!(most.load(Ordering::SeqCst) <= 2);
/// })
/// .unwrap();
/// ```
pub struct Semaphore {
    size: u64,
    avail: AtomicU64,
    waiters: WaitList,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("available", &self.available())
            .finish()
    }
}

impl Semaphore {
    /// A semaphore of `size` units, all available (at most 2^63 - 1).
    pub fn new(size: u64) -> Self {
        let size = size.min(QUEUED - 1);
        Semaphore {
            size,
            avail: AtomicU64::new(size),
            waiters: WaitList::default(),
        }
    }

    /// Units not held now (a snapshot).
    pub fn available(&self) -> u64 {
        self.avail.load(Ordering::Relaxed) & !QUEUED
    }

    /// Acquires `n` units, parking until they are available and every earlier waiter has
    /// been served. A weight larger than the size is an error (x/sync blocks for ever).
    #[doc(alias = "Acquire")]
    pub fn acquire(&self, n: u64) -> Result<(), TooLarge> {
        self.acquire_until(n, None).map(|_| ())
    }

    /// Acquires `n` units, waiting at most `timeout`; `Ok(false)` if it timed out.
    pub fn acquire_timeout(&self, n: u64, timeout: Duration) -> Result<bool, TooLarge> {
        self.acquire_until(n, Some(crate::time::timer::deadline_after(timeout)))
    }

    /// Acquires `n` units only if that needs no waiting.
    #[doc(alias = "TryAcquire")]
    pub fn try_acquire(&self, n: u64) -> bool {
        let mut a = self.avail.load(Ordering::Relaxed);
        while a & QUEUED == 0 && a >= n {
            match self
                .avail
                .compare_exchange_weak(a, a - n, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => a = now,
            }
        }
        false
    }

    fn acquire_until(&self, n: u64, deadline: Option<Instant>) -> Result<bool, TooLarge> {
        if n > self.size {
            return Err(TooLarge {
                wanted: n,
                size: self.size,
            });
        }
        if self.try_acquire(n) {
            return Ok(true);
        }
        let tag = usize::try_from(n).unwrap_or(usize::MAX);
        let r = self.waiters.wait(
            crate::wait::reason::WaitReason::Semacquire,
            tag,
            false,
            deadline,
            |others| {
                // Take it if it fits and nobody is ahead, else say we queue: one CAS on the value
                // we looked at, so a release in between makes us look again.
                let mut a = self.avail.load(Ordering::Relaxed);
                loop {
                    let (next, took) = if !others && a & !QUEUED >= n {
                        ((a & !QUEUED) - n, true)
                    } else {
                        (a | QUEUED, false)
                    };
                    match self.avail.compare_exchange_weak(
                        a,
                        next,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => return took,
                        Err(now) => a = now,
                    }
                }
            },
        );
        if r == Wait::TimedOut {
            // Our record may have blocked smaller requests behind it.
            self.grant();
        }
        Ok(r != Wait::TimedOut)
    }

    /// Gives back `n` units, waking waiters they satisfy.
    #[doc(alias = "Release")]
    pub fn release(&self, n: u64) {
        let before = self.avail.fetch_add(n, Ordering::Release);
        if before & QUEUED != 0 {
            self.grant();
        }
    }

    /// Step 2.
    fn grant(&self) {
        self.waiters.wake(|w| {
            while let Some(want) = w.front() {
                let want = want as u64;
                let a = self.avail.load(Ordering::Acquire);
                if a & !QUEUED < want {
                    return;
                }
                if w.pop(0).is_some() {
                    self.avail.fetch_sub(want, Ordering::Relaxed);
                }
            }
            if w.is_empty() {
                self.avail.fetch_and(!QUEUED, Ordering::Relaxed);
            }
        });
    }
}
