//! `WaitList`: the parking lot every primitive of this folder stands on.
//!
//! A list is a short futex lock (`wait::lock`, the channel lock) and a FIFO of waiter records
//! that live on the waiting goroutines' (or threads') stacks: the same records and the same
//! signal protocol as a blocked channel operation (`wait::waiter`), so waiting allocates
//! nothing and works from goroutines and plain threads alike.
//!
//! # Protocol
//!
//! 1. A waiter calls [`WaitList::wait`] with a `check` closure. Under the list's lock `check`
//!    either takes what the waiter wants (the primitive's state is atomic, so `check` does it
//!    with a compare-and-swap) and the call returns [`Wait::Ready`], or records that a waiter
//!    is coming (a bit in the state that sends releasers to the slow path) and the waiter
//!    links a record carrying its `tag` (at the tail, or the head for a waiter that was woken
//!    and lost a race), unlocks, and parks on its signal.
//! 2. A releaser that sees waiters recorded calls [`WaitList::wake`]: under the lock it looks
//!    at the head ([`Wakes::front`]) and claims waiters ([`Wakes::pop`]), completing each with
//!    a value (for example "the lock is yours" or "try again"), and updates the primitive's
//!    state before the lock is released. The wake-ups happen after unlocking.
//! 3. A waiter with a deadline that passes, or whose stack unwinds at shutdown, withdraws its
//!    record as a channel waiter does (claims its own signal, then unlinks under the lock); if
//!    a releaser claimed it first, it takes the completion instead.
//!
//! Because step 1 decides under the same lock that step 2 takes, a release can never slip
//! between a waiter's last look at the state and its record being linked: no lost wake-ups.

use std::cell::UnsafeCell;
use std::time::Instant;

use crate::wait::lock::RawLock;
use crate::wait::waiter::{Claimed, Signal, WaitQueue, Waiter};

/// How a [`WaitList::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// `check` succeeded: no wait.
    Ready,
    /// A releaser completed the wait with this value.
    Woken(usize),
    /// The deadline passed first; the waiter withdrew.
    TimedOut,
}

pub(crate) struct WaitList {
    lock: RawLock,
    q: UnsafeCell<WaitQueue>,
}

// SAFETY: the queue is touched only under `lock`; the records it links are `Sync` signals and
// links that only lock holders use (see `wait::waiter`).
unsafe impl Send for WaitList {}
// SAFETY: as above.
unsafe impl Sync for WaitList {}

impl Default for WaitList {
    fn default() -> Self {
        WaitList {
            lock: RawLock::new(),
            q: UnsafeCell::new(WaitQueue::default()),
        }
    }
}

/// The releaser's view of the queue, under the lock (step 2).
pub(crate) struct Wakes<'a> {
    q: &'a mut WaitQueue,
    woken: Vec<Claimed>,
}

impl Wakes<'_> {
    /// The tag of the first waiter still waiting.
    pub(crate) fn front(&mut self) -> Option<usize> {
        self.q.front_waiting().map(Waiter::case)
    }

    /// Claims the first waiter still waiting (the one [`front`](Self::front) names) and
    /// completes it with `value`; returns its tag. `None` if there is none, or if it withdrew
    /// after `front` looked (its owner timed out or is unwinding): look at `front` again.
    pub(crate) fn pop(&mut self, value: usize) -> Option<usize> {
        let w: *const Waiter = self.q.front_waiting()?;
        // SAFETY: a linked record stays alive while we hold the list's lock: its owner returns
        // only after DONE (which we have not published) or after unlinking it under this lock.
        // Once claimed it stays alive until our wake-up publishes DONE.
        let w = unsafe { &*w };
        let claimed = w.signal().try_claim();
        self.q.remove(w);
        if !claimed {
            return None;
        }
        let tag = w.case();
        self.woken.push(w.signal().complete(value, false));
        Some(tag)
    }

    /// Pops waiters until one is claimed; its tag.
    pub(crate) fn pop_any(&mut self, value: usize) -> Option<usize> {
        while self.front().is_some() {
            if let Some(tag) = self.pop(value) {
                return Some(tag);
            }
        }
        None
    }

    /// True if no record is linked (stale ones included: call [`front`](Self::front) first to
    /// drop those at the head).
    pub(crate) fn is_empty(&self) -> bool {
        self.q.len() == 0
    }
}

impl WaitList {
    /// The queue.
    ///
    /// # Safety
    ///
    /// `lock` must be held for as long as the reference lives, and no other reference to the
    /// queue may be alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn queue(&self) -> &mut WaitQueue {
        // SAFETY: the caller holds the lock and no other reference exists.
        unsafe { &mut *self.q.get() }
    }

    /// Step 1: waits unless `check` (run under the lock, told whether records are linked
    /// already) says there is no need.
    pub(crate) fn wait(
        &self,
        reason: crate::wait::reason::WaitReason,
        tag: usize,
        front: bool,
        deadline: Option<Instant>,
        check: impl FnOnce(bool) -> bool,
    ) -> Wait {
        self.lock.lock();
        // SAFETY: locked; the reference ends in this expression.
        if check(unsafe { self.queue() }.len() > 0) {
            self.lock.unlock();
            return Wait::Ready;
        }
        let signal = Signal::new_waiting(reason, std::ptr::from_ref(self) as usize);
        let waiter = Waiter::new(&signal, tag, std::ptr::null_mut());
        // SAFETY: locked (and the queue reference ends in this block); `waiter` stays in this
        // frame and is unlinked before it ends, by the releaser that claims it, by the timeout
        // below, or by `Withdraw` when unwinding.
        unsafe {
            if front {
                self.queue().push_front(&waiter);
            } else {
                self.queue().push_back(&waiter);
            }
        }
        self.lock.unlock();
        let guard = Withdraw {
            list: self,
            signal: &signal,
            waiter: &waiter,
        };
        let outcome = if signal.wait_until(deadline, || guard.withdraw()) {
            Wait::Woken(signal.case())
        } else {
            Wait::TimedOut
        };
        std::mem::forget(guard);
        outcome
    }

    /// Step 2: runs `f` under the lock; the waiters it pops are woken after unlocking.
    pub(crate) fn wake<R>(&self, f: impl FnOnce(&mut Wakes<'_>) -> R) -> R {
        self.lock.lock();
        let mut w = Wakes {
            // SAFETY: locked until after `w` is last used; `w` holds the only reference.
            q: unsafe { self.queue() },
            woken: Vec::new(),
        };
        let r = f(&mut w);
        let woken = std::mem::take(&mut w.woken);
        self.lock.unlock();
        for s in woken {
            s.wake();
        }
        r
    }
}

/// Step 3: unlinks a waiter whose deadline passed or whose stack unwinds.
struct Withdraw<'a> {
    list: &'a WaitList,
    signal: &'a Signal,
    waiter: &'a Waiter,
}

impl Withdraw<'_> {
    /// True if nobody had claimed the wait.
    fn withdraw(&self) -> bool {
        if !self.signal.abort() {
            return false;
        }
        self.list.lock.lock();
        // SAFETY: locked; the reference ends in this statement.
        unsafe { self.list.queue() }.remove(self.waiter);
        self.list.lock.unlock();
        true
    }
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        // Only reached while unwinding: the record must leave the list before the frame dies.
        if !self.withdraw() {
            self.signal.wait_spinning();
        }
    }
}
