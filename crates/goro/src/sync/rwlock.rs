//! `RwLock<T>`: many readers or one writer, parking goroutines (Go's `sync.RWMutex`).
//!
//! # Protocol
//!
//! `state` counts readers in units of `READER` and has two bits: `WRITER` (a writer holds it)
//! and `PARKED` (someone waits in the list). Waiters queue in one FIFO list, tagged READ or
//! WRITE, and are granted the lock by whoever releases it, in arrival order: a batch of
//! consecutive readers at the head, or one writer.
//!
//! 1. `read` takes a share with a compare-and-swap while `WRITER` and `PARKED` are clear. A
//!    reader that finds `PARKED` set queues even when only readers hold the lock: a waiting
//!    writer is not overtaken by a stream of new readers (Go's `readerWait`).
//! 2. `write` takes `0 -> WRITER`.
//! 3. Otherwise, under the list's lock, the waiter tries again (same rules, and `PARKED` clear),
//!    or sets `PARKED` and queues.
//! 4. Releasing: a writer swaps `WRITER -> 0` if nobody waits; a reader subtracts its share.
//!    The release that leaves the lock free with `PARKED` set grants it under the list's lock:
//!    it pops the head batch, sets `state` for the new holders (and `PARKED` if records
//!    remain), and wakes them: they return holding the lock. While `PARKED` is set no fast path
//!    can take the lock, so the grant's plain stores race with nothing but read releases,
//!    and there are no readers to release when it runs.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::wait::list::{Wait, WaitList, Wakes};

const WRITER: usize = 1;
const PARKED: usize = 2;
const READER: usize = 4;

const READ: usize = 0;
const WRITE: usize = 1;

/// A reader-writer lock around a `T`, fair in arrival order.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// goro::run(|| {
///     let config = Arc::new(goro::sync::RwLock::new(String::from("v1")));
///     let c = config.clone();
///     let reader = goro::go(move || c.read().clone());
///     *config.write() = String::from("v2");
///     let seen = reader.join().unwrap();
///     assert!(seen == "v1" || seen == "v2");
///     assert_eq!(*config.read(), "v2");
/// })
/// .unwrap();
/// ```
pub struct RwLock<T: ?Sized> {
    state: AtomicUsize,
    waiters: WaitList,
    data: UnsafeCell<T>,
}

// SAFETY: as std's `RwLock`: readers share `&T` across threads (`T: Sync`), a writer gets
// `&mut T` (`T: Send`).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to a [`RwLock`]'s data; releases the share when dropped.
#[must_use = "the share is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    l: &'a RwLock<T>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Exclusive access to a [`RwLock`]'s data; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    l: &'a RwLock<T>,
    _not_send: std::marker::PhantomData<*const ()>,
}

// SAFETY: sharing a guard shares `&T` only.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock.
    pub fn new(value: T) -> Self {
        RwLock {
            state: AtomicUsize::new(0),
            waiters: WaitList::default(),
            data: UnsafeCell::new(value),
        }
    }

    /// The data, taking the lock apart.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes a shared lock, parking while a writer holds it or waits for it.
    #[doc(alias = "RLock")]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        if !self.try_share() {
            let r = self.waiters.wait(
                crate::wait::reason::WaitReason::RwLockRead,
                READ,
                false,
                None,
                |others| self.park_unless(others, |s| s & WRITER == 0, READER),
            );
            debug_assert!(matches!(r, Wait::Ready | Wait::Woken(_)));
        }
        RwLockReadGuard {
            l: self,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Takes a shared lock if that needs no waiting.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.try_share().then(|| RwLockReadGuard {
            l: self,
            _not_send: std::marker::PhantomData,
        })
    }

    /// Takes the exclusive lock, parking while anyone holds it or waits ahead.
    #[doc(alias = "Lock")]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        if !self.try_exclusive() {
            self.waiters.wait(
                crate::wait::reason::WaitReason::RwLockWrite,
                WRITE,
                false,
                None,
                |others| self.park_unless(others, |s| s == 0, WRITER),
            );
        }
        RwLockWriteGuard {
            l: self,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Takes the exclusive lock if that needs no waiting.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.try_exclusive().then(|| RwLockWriteGuard {
            l: self,
            _not_send: std::marker::PhantomData,
        })
    }

    /// The data, through a unique borrow.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Step 1. Acquire: pairs with the Release of the last writer's unlock.
    fn try_share(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & (WRITER | PARKED) == 0 {
            match self.state.compare_exchange_weak(
                s,
                s + READER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    /// Step 2.
    fn try_exclusive(&self) -> bool {
        self.state
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Step 3, under the list's lock: if nobody is queued (`others` false; a PARKED bit left
    /// over from withdrawn records is cleared) and `free(state without PARKED)`, adds `take`;
    /// else sets PARKED. One CAS on the value looked at, so a release in between makes us look
    /// again. True if it took the lock.
    fn park_unless(&self, others: bool, free: impl Fn(usize) -> bool, take: usize) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let (next, took) = if !others && free(s & !PARKED) {
                ((s & !PARKED) + take, true)
            } else {
                (s | PARKED, false)
            };
            match self
                .state
                .compare_exchange_weak(s, next, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return took,
                Err(now) => s = now,
            }
        }
    }

    fn read_unlock(&self) {
        // Release: our reads happen before the next writer's writes.
        let before = self.state.fetch_sub(READER, Ordering::Release);
        if before - READER == PARKED {
            self.grant();
        }
    }

    fn write_unlock(&self) {
        if self
            .state
            .compare_exchange(WRITER, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.state.fetch_and(!WRITER, Ordering::Release);
            self.grant();
        }
    }

    /// Step 4: if the lock is free and waiters are parked, hands it to the head batch.
    fn grant(&self) {
        self.waiters.wake(|w| {
            if self.state.load(Ordering::Acquire) != PARKED {
                return; // taken meanwhile, or granted by another release
            }
            let holders = Self::pop_batch(w);
            let parked = if w.front().is_some() { PARKED } else { 0 };
            // Release: the woken holders see everything released before (their signal
            // carries it too).
            self.state.store(holders | parked, Ordering::Release);
        });
    }

    /// Pops one writer, or every reader up to the next writer; the state they hold.
    fn pop_batch(w: &mut Wakes<'_>) -> usize {
        let mut readers = 0;
        loop {
            match w.front() {
                // `pop` claims exactly the record `front` named, or none if its owner withdrew
                // meanwhile (unwinding): then look again.
                Some(WRITE) if readers == 0 => {
                    if w.pop(0).is_some() {
                        return WRITER;
                    }
                }
                Some(READ) => {
                    if w.pop(0).is_some() {
                        readers += READER;
                    }
                }
                _ => return readers,
            }
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard proves a share is held: no writer exists.
        unsafe { &*self.l.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.l.read_unlock();
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a write guard proves exclusive access.
        unsafe { &*self.l.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a write guard proves exclusive access, and `&mut self` that it is unshared.
        unsafe { &mut *self.l.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.l.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
