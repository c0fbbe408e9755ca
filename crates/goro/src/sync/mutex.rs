//! `Mutex<T>`: mutual exclusion that parks goroutines (Go's `sync.Mutex`, holding its data as
//! Rust's does).
//!
//! # Protocol
//!
//! `state` holds three bits: `LOCKED`, `WAITERS` (records may be linked in the wait list: an
//! unlock must take the slow path) and `STARVING`. Waiting goes through a [`WaitList`].
//!
//! 1. `lock` tries `0 -> LOCKED` once (the uncontended case), then spins a few rounds trying
//!    to set `LOCKED` while it is clear and the mutex is not starving.
//! 2. Then, under the list's lock: if `LOCKED` and `STARVING` are clear, take it; otherwise set
//!    `WAITERS` (and `STARVING` if this goroutine has already waited over 1 ms) and link a
//!    record: at the tail the first time, at the head after losing a race (step 4).
//! 3. `unlock` tries `LOCKED -> 0` (nobody waiting). Otherwise, under the list's lock:
//!    * normal mode: clear `LOCKED` (and `WAITERS` if no record is left) and wake the first
//!      waiter with RETRY: it competes with goroutines arriving meanwhile, which usually win
//!      (they are already running; that is what keeps a busy mutex fast);
//!    * starving mode: leave `LOCKED` set and wake the first waiter with HANDOFF: it owns the
//!      mutex from that moment, and nobody can barge in, because arrivals see `STARVING` and
//!      queue behind. The last waiter's hand-off ends starving mode.
//! 4. A waiter woken with RETRY goes back to step 1, and if it loses it queues at the head.
//!    One that has waited over 1 ms sets `STARVING` when it queues again, so from the next
//!    unlock on the mutex is handed over in FIFO order: no waiter is starved for ever, at the
//!    cost of throughput while it lasts. (Go's `starvationThresholdNs` is the same 1 ms.)
//!
//! There is no poisoning: a goroutine that panics while holding the guard unlocks it as the
//! guard drops (Go has no poisoning either; check your invariants if you recover).

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::wait::list::{Wait, WaitList};

const LOCKED: u32 = 1;
const WAITERS: u32 = 2;
const STARVING: u32 = 4;

/// Completion values of a wait.
const RETRY: usize = 0;
const HANDOFF: usize = 1;

/// Go: `starvationThresholdNs = 1e6`.
const STARVATION: Duration = Duration::from_millis(1);

/// Looks at the state this many times before queueing, [`SPIN_PAUSES`] apart (a holder on
/// another worker is usually about to let go). Go: `active_spin = 4`, `active_spin_cnt = 30`.
/// Looking after every pause instead pulled the lock's cache line away from the holder on
/// every operation: two goroutines on two cores took 31 ns per lock + unlock, against 8 ns in
/// Go.
const SPINS: u32 = 4;
const SPIN_PAUSES: u32 = 30;

/// A mutual-exclusion lock around a `T` whose waiters park (goroutines) or sleep (threads).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// goro::run(|| {
///     let total = Arc::new(goro::sync::Mutex::new(0));
///     let hs: Vec<_> = (0..10)
///         .map(|_| {
///             let total = total.clone();
///             goro::go(move || {
///                 for _ in 0..100 {
///                     *total.lock() += 1;
///                 }
///             })
///         })
///         .collect();
///     for h in hs {
///         h.join().unwrap();
///     }
///     assert_eq!(*total.lock(), 1000);
/// })
/// .unwrap();
/// ```
pub struct Mutex<T: ?Sized> {
    state: AtomicU32,
    waiters: WaitList,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one holder at a time; moving it moves the `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: `&Mutex<T>` gives `&mut T` to one thread at a time, so `T: Send` suffices (as std).
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Access to the data of a locked [`Mutex`]; unlocks when dropped.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    m: &'a Mutex<T>,
    /// Not `Send`: like std's guard, it stays with the goroutine that locked.
    _not_send: std::marker::PhantomData<*const ()>,
}

// SAFETY: sharing the guard shares `&T` only.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(0),
            waiters: WaitList::default(),
            data: UnsafeCell::new(value),
        }
    }

    /// The data, taking the mutex apart.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, parking the goroutine (or thread) while another holds the mutex.
    #[doc(alias = "Lock")]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        self.guard()
    }

    /// Locks if that needs no waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(1);
    /// let g = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert_eq!(*m.try_lock().unwrap(), 1);
    /// ```
    #[doc(alias = "TryLock")]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        crate::sched::worker::preempt_point();
        self.try_acquire().then(|| self.guard())
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// True while someone holds the lock (a snapshot).
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            m: self,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Sets LOCKED if it and STARVING are clear. Acquire: pairs with the Release of the
    /// previous unlock.
    fn try_acquire(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & (LOCKED | STARVING) == 0 {
            match self.state.compare_exchange_weak(
                s,
                s | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    #[cold]
    fn lock_slow(&self) {
        let mut first_wait: Option<Instant> = None;
        loop {
            // Step 1: spin.
            for _ in 0..SPINS {
                for _ in 0..SPIN_PAUSES {
                    std::hint::spin_loop();
                }
                if self.try_acquire() {
                    return;
                }
            }
            // Step 2: queue.
            let starving = first_wait.is_some_and(|t| t.elapsed() >= STARVATION);
            let requeue = first_wait.is_some();
            let r = self.waiters.wait(
                crate::wait::reason::WaitReason::MutexLock,
                0,
                requeue,
                None,
                |others| {
                    // Take it if it is free (and not reserved for waiters ahead of us), else say
                    // we queue: one CAS on the value looked at, so an unlock in between makes us
                    // look again, and an unlock after it sees WAITERS and takes the slow path.
                    let mut s = self.state.load(Ordering::Relaxed);
                    loop {
                        let free = s & LOCKED == 0 && (s & STARVING == 0 || !others || requeue);
                        let next = if free && !others {
                            LOCKED
                        } else if free {
                            s | LOCKED
                        } else {
                            s | WAITERS | if starving { STARVING } else { 0 }
                        };
                        match self.state.compare_exchange_weak(
                            s,
                            next,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => return free,
                            Err(now) => s = now,
                        }
                    }
                },
            );
            match r {
                Wait::Ready | Wait::Woken(HANDOFF) => return,
                _ => {
                    first_wait.get_or_insert_with(Instant::now);
                }
            }
        }
    }

    /// Step 3.
    fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        self.waiters.wake(|w| {
            if self.state.load(Ordering::Relaxed) & STARVING != 0 && w.pop_any(HANDOFF).is_some() {
                // The new owner keeps LOCKED; it sees our writes through its signal (DONE is
                // published after we unlock the list). The last waiter ends starving mode.
                if w.front().is_none() {
                    self.state
                        .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
                }
                return;
            }
            let mut clear = LOCKED | STARVING;
            if w.front().is_none() {
                clear |= WAITERS;
            }
            self.state.fetch_and(!clear, Ordering::Release);
            w.pop_any(RETRY);
        });
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(v: T) -> Self {
        Mutex::new(v)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        // Not `try_lock`: formatting may hold stdout's lock, and must not yield under it.
        match self.try_acquire().then(|| self.guard()) {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves we hold the lock.
        unsafe { &*self.m.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves we hold the lock, and `&mut self` that it is not shared.
        unsafe { &mut *self.m.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.m.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks (for [`Cond`](super::Cond)).
    pub(crate) fn mutex(&self) -> &'a Mutex<T> {
        self.m
    }
}
