//! The channel lock: a three-state futex mutex with a short spin.
//!
//! Every channel has one, held only for a few dozen instructions while a send, receive, close
//! or select inspects the buffer and the wait queues. Nothing inside it can block or run user
//! code (values are dropped after unlocking), so contention is brief and a short spin usually
//! wins; a thread that loses for longer sleeps on the futex instead of burning its core (Go's
//! `lock_futex.go` makes the same choice for its runtime locks).
//!
//! `select!` holds the locks of several channels at once, so the lock has no guard type:
//! callers pair [`RawLock::lock`] and [`RawLock::unlock`] themselves, always locking in
//! ascending address order (see `select`).
//!
//! # States
//!
//! * 0: unlocked.
//! * 1: locked, nobody asleep on the futex.
//! * 2: locked, and a thread may be asleep: the unlocker must wake one.
//!
//! A thread that gives up spinning swaps in 2 before sleeping, so a wake-up is never lost: the
//! holder's `unlock` swaps 0 in and sees the 2.

use std::sync::atomic::{AtomicU32, Ordering};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// Spins before sleeping. A critical section is under a microsecond; 100 rounds of a pause
/// instruction cover it without stealing much from a holder that shares the core.
const SPINS: u32 = 100;

#[derive(Debug, Default)]
pub(crate) struct RawLock {
    state: AtomicU32,
}

impl RawLock {
    pub(crate) const fn new() -> Self {
        RawLock {
            state: AtomicU32::new(UNLOCKED),
        }
    }

    /// Acquires the lock. Acquire ordering: pairs with the Release of the previous `unlock`.
    #[inline]
    pub(crate) fn lock(&self) {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[cold]
    fn lock_contended(&self) {
        for _ in 0..SPINS {
            let s = self.state.load(Ordering::Relaxed);
            if s == UNLOCKED
                && self
                    .state
                    .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            if s == CONTENDED {
                break;
            }
            std::hint::spin_loop();
        }
        // From here on we may sleep, so the lock must say so (state 2) whoever owns it.
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            futex_wait(&self.state, CONTENDED);
        }
    }

    /// Releases the lock (Release: everything written under it is visible to the next owner).
    #[inline]
    pub(crate) fn unlock(&self) {
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex_wake_one(&self.state);
        }
    }
}

fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT only reads the aligned u32 behind `word`, which outlives the call; a
    // spurious or interrupted return is fine because the caller loops.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

fn futex_wake_one(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE takes the address only as a key; it does not dereference it.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::UnsafeCell;
    use std::sync::Arc;

    struct Counter {
        lock: RawLock,
        n: UnsafeCell<u64>,
    }
    // SAFETY: `n` is only touched while `lock` is held.
    unsafe impl Sync for Counter {}

    #[test]
    fn excludes_under_contention() {
        let c = Arc::new(Counter {
            lock: RawLock::new(),
            n: UnsafeCell::new(0),
        });
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..50_000 {
                        c.lock.lock();
                        // SAFETY: the lock is held.
                        unsafe { *c.n.get() += 1 };
                        c.lock.unlock();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        // SAFETY: every thread has been joined.
        assert_eq!(unsafe { *c.n.get() }, 200_000);
    }
}
